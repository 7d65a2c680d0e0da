-- DuckDB translation of sql/reports/credential_changes.sql, rendered by
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
    CASE
        WHEN lower(trace_name) IN ('addcredential', 'deletecredential') THEN 'access key'
        ELSE 'password'
    END AS credential,
    -- whose credential: the resource, else the user named in the request
    COALESCE(NULLIF(resource_name, ''),
             json_str(json_text(request, '$.credential'), '$.user_id'),
             resource_id) AS target,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) IN (
        'addcredential',
        'deletecredential',
        'changepassword',
        'updateuserpwd',
        'setpasswordbyadmin',
        'modifyuserpassword'
      )
ORDER BY time, trace_id
