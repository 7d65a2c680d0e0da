-- DuckDB translation of sql/reports/federation_changes.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   nothing: the same SQL runs in both
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain
    FROM traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    CASE
        WHEN lower(trace_name) LIKE '%identityprovider' THEN 'identity provider'
        WHEN lower(trace_name) LIKE '%mapping' THEN 'mapping'
        ELSE 'protocol'
    END AS federation_object,
    request,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) IN (
        'createidentityprovider', 'updateidentityprovider', 'deleteidentityprovider',
        'createmapping', 'updatemapping', 'deletemapping',
        'createprotocol', 'updateprotocol', 'deleteprotocol'
      )
ORDER BY time, trace_id
