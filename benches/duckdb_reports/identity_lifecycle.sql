-- DuckDB translation of sql/reports/identity_lifecycle.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   json_get_str(x, 'a', 'b') -> json_str(x, '$.a.b') (macro in duckdb_reports.py)
--   json_as_text(x, 'a') -> json_text(x, '$.a') (macro)
--   json_get_bool(x, 'a') -> json_bool(x, '$.a') (macro)
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
        WHEN lower(trace_name) LIKE 'create%' THEN 'create'
        WHEN lower(trace_name) LIKE 'update%' THEN 'update'
        WHEN lower(trace_name) LIKE 'remove%' THEN 'remove member'
        ELSE 'delete'
    END AS change,
    CASE WHEN lower(trace_name) LIKE '%group' THEN 'user group' ELSE 'user' END AS identity,
    COALESCE(json_str(json_text(request, '$.user'), '$.enabled'),
             CAST(json_bool(json_text(request, '$.user'), '$.enabled') AS VARCHAR)) AS enabled,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) IN (
        'createuser',
        'updateuser',
        'deleteuser',
        'createusergroup',
        'updateusergroup',
        'deleteusergroup',
        'removeuserfromgroup'
      )
ORDER BY time, trace_id
