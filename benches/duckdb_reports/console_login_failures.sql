-- DuckDB translation of sql/reports/console_login_failures.sql, rendered by
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
),
failed AS (
    SELECT *
    FROM t
    WHERE upper(service_type) = 'IAM'
      AND (
            lower(trace_name) = 'loginfailed'
            OR (lower(trace_name) = 'login' AND lower(trace_rating) IN ('warning', 'incident'))
          )
),
counted AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY domain, operator, source_ip) AS failures,
        min(time) OVER (PARTITION BY domain, operator, source_ip) AS first_failure,
        max(time) OVER (PARTITION BY domain, operator, source_ip) AS last_failure
    FROM failed
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    failures,
    first_failure,
    last_failure,
    code,
    json_str(json_text(message, '$.login'), '$.reason') AS reason
FROM counted
WHERE failures >= CAST({{min_failures}} AS BIGINT)
ORDER BY time, trace_id
