-- DuckDB translation of sql/reports/trace_coverage.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   to_char(t, fmt) -> strftime(t, fmt), same format codes
SELECT
    strftime(time, '%Y-%m-%d') AS day,
    COALESCE(region, '(unknown)') AS region,
    COALESCE(service_type, '(none)') AS service_type,
    count(*) AS traces,
    count(DISTINCT COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, ''))) AS operators,
    min(time) AS first_trace,
    max(time) AS last_trace
FROM traces
WHERE time >= CAST({{from}} AS TIMESTAMP)
  AND time < CAST({{to}} AS TIMESTAMP)
GROUP BY 1, 2, 3
ORDER BY day, region, service_type
