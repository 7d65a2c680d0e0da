-- DuckDB translation of sql/reports/root_account_activity.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   json_get_str(x, 'a', 'b') -> json_str(x, '$.a.b') (macro in duckdb_reports.py)
--   json_as_text(x, 'a') -> json_text(x, '$.a') (macro)
--   string_to_array -> split_list (macro: DataFusion splits '' into [], DuckDB into [''])
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
    trace_type,
    user_type,
    CASE
        WHEN principal_is_root_user IS TRUE THEN 'principal_is_root_user'
        WHEN user_name = user_domain_name THEN 'operator is the account'
        ELSE 'domain owner login'
    END AS reason
FROM t
WHERE (
        principal_is_root_user IS TRUE
        OR (NULLIF(user_name, '') IS NOT NULL AND user_name = user_domain_name)
        OR (upper(service_type) = 'IAM'
            AND lower(json_str(json_text(message, '$.login'), '$.user_type')) = 'domain owner')
      )
  AND NOT COALESCE(array_has(split_list(replace({{allowed_ips}}, ' ', ''), ','), source_ip), false)
ORDER BY time, trace_id
