-- DuckDB translation of sql/reports/destructive_operations.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   nothing: the same SQL runs in both
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain,
        upper(service_type) AS svc,
        lower(trace_name) AS op
    FROM traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
      -- every operation named below: a cheap first filter, so that only these traces are classified
      AND lower(trace_name) IN ('deleteserver', 'deleteserverv2', 'deleteservers', 'deletevolume',
                                'deletevolumev2', 'deleteinstance', 'deletecluster', 'deletevpc',
                                'deletebucket')
),
deletions AS (
    SELECT
        *,
        CASE
            WHEN svc IN ('ECS', 'BMS') AND op IN ('deleteserver', 'deleteserverv2', 'deleteservers')
                THEN 'server'
            WHEN svc = 'EVS' AND op IN ('deletevolume', 'deletevolumev2')
                THEN 'volume'
            WHEN (svc IN ('RDS', 'DDS', 'DCS', 'DWS') OR svc LIKE 'GAUSSDB%' OR svc LIKE 'TAURUS%')
                 AND op IN ('deleteinstance', 'deletecluster')
                THEN 'database'
            WHEN svc = 'VPC' AND op = 'deletevpc'
                THEN 'vpc'
            WHEN svc = 'OBS' AND op = 'deletebucket'
                THEN 'bucket'
        END AS resource_class
    FROM t
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    resource_class,
    resource_id,
    code
FROM deletions
WHERE resource_class IS NOT NULL
ORDER BY time, trace_id
