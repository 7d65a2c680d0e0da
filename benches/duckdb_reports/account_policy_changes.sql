-- DuckDB translation of sql/reports/account_policy_changes.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   regexp_like -> regexp_matches (RE2 for Rust regex: same on this pattern)
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
    CASE lower(trace_name)
        WHEN 'updatesecuritypolicies' THEN 'security'
        WHEN 'updatepasswordpolicies' THEN 'password'
        ELSE 'acl'
    END AS policy,
    lower(trace_name) = 'updateaclpolicies'
        AND COALESCE(regexp_matches(request, '(^|[^0-9.])0\.0\.0\.0/0([^0-9]|$)|(^|[^0-9a-fA-F:])::/0([^0-9]|$)'), false)
        AS acl_open_to_world,
    request,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) IN ('updatesecuritypolicies', 'updatepasswordpolicies', 'updateaclpolicies')
ORDER BY time, trace_id
