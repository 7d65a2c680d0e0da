-- DuckDB translation of sql/reports/audit_log_access.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   string_to_array -> split_list (macro: DataFusion splits '' into [], DuckDB into [''])
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain,
        -- OBS resource names are "bucket" or "bucket/object key"
        split_part(resource_name, '/', 1) AS bucket
    FROM traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    CASE
        WHEN upper(service_type) = 'CTS' THEN 'trace query'
        WHEN read_only IS TRUE
          OR lower(trace_name) LIKE 'get%' OR lower(trace_name) LIKE 'list%'
          OR lower(trace_name) LIKE 'head%' THEN 'read'
        ELSE 'write'
    END AS access,
    CASE WHEN upper(service_type) = 'OBS' THEN bucket END AS bucket,
    trace_type,
    tracker_name,
    request
FROM t
WHERE (
        (upper(service_type) = 'CTS' AND lower(trace_name) = 'gettrace')
        OR (upper(service_type) = 'OBS'
            AND (COALESCE(array_has(split_list(replace({{trace_buckets}}, ' ', ''), ','), bucket), false)
                 OR resource_name LIKE '%CloudTraces/%'))
      )
  AND NOT COALESCE(array_has(split_list(replace({{allowed_operators}}, ' ', ''), ','), operator), false)
ORDER BY time, trace_id
