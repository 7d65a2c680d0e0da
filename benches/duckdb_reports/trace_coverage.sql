-- DuckDB translation of sql/reports/trace_coverage.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   to_char(t, fmt) -> strftime(t, fmt), same format codes
--   date_bin(INTERVAL '1 day', time) -> date_trunc('day', time): the same UTC days (DataFusion's
--   date_bin is arithmetic on the number; its date_trunc converts every value through the zone)
-- grouped by the day's first instant (a number), named as text once per group
SELECT strftime(day_start, '%Y-%m-%d') AS day, region, service_type, traces, operators, first_trace, last_trace
FROM (
    SELECT
        date_trunc('day', time) AS day_start,
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
) daily
ORDER BY day, region, service_type
