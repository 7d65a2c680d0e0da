-- DuckDB translation of sql/reports/access_denied.sql, rendered by
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
    trim(code) AS code,
    trace_type,
    COALESCE(json_str(json_text(response, '$.error'), '$.message'), json_str(response, '$.error_msg'),
             json_str(response, '$.message')) AS error_message
FROM t
-- code is text: 403, "403" and 403.0 all read as the number 403
WHERE TRY_CAST(trim(code) AS DOUBLE) IN (401, 403)
ORDER BY time, trace_id
