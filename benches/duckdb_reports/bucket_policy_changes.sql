-- DuckDB translation of sql/reports/bucket_policy_changes.sql, rendered by
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
    split_part(resource_name, '/', 1) AS bucket,
    lower(trace_name) IN ('setbucketpolicy', 'setbucketacl')
        AND COALESCE(regexp_matches(request, '\\?"\*\\?"|Everyone|AllUsers'), false) AS public_access,
    request,
    code
FROM t
WHERE upper(service_type) = 'OBS'
  AND lower(trace_name) IN ('setbucketpolicy', 'deletebucketpolicy', 'setbucketacl', 'deletebucket')
ORDER BY time, trace_id
