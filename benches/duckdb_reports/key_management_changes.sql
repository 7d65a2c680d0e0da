-- DuckDB translation of sql/reports/key_management_changes.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   json_get_str(x, 'a', 'b') -> json_str(x, '$.a.b') (macro in duckdb_reports.py)
--   json_as_text(x, 'a') -> json_text(x, '$.a') (macro)
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
    COALESCE(json_str(request, '$.key_id'), NULLIF(resource_id, '')) AS key_id,
    json_text(request, '$.pending_days') AS pending_days,
    code
FROM t
WHERE upper(service_type) IN ('KMS', 'DEW')
  AND lower(trace_name) IN (
        'disablekey',
        'schedulekeydeletion',
        'deletekey',
        'deleteimportedkeymaterial',
        'disablekeyrotation'
      )
ORDER BY time, trace_id
