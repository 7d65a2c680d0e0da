-- DuckDB translation of sql/reports/logins_without_mfa.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   json_get_str(x, 'a', 'b') -> json_str(x, '$.a.b') (macro in duckdb_reports.py)
--   json_as_text(x, 'a') -> json_text(x, '$.a') (macro)
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain,
        -- message is {"login": {...}}; "login" may itself arrive as JSON text
        json_text(message, '$.login') AS login
    FROM traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    json_str(login, '$.login_protect.status') AS login_protect,
    mfa_authenticated,
    json_str(login, '$.mode') AS login_mode,
    user_type
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) = 'login'
  AND COALESCE(lower(trace_rating), 'normal') = 'normal'
  AND (
        lower(json_str(login, '$.login_protect.status')) = 'off'
        OR mfa_authenticated IS FALSE
      )
ORDER BY time, trace_id
