-- DuckDB translation of sql/reports/daily_activity_by_operator.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   to_char(t, fmt) -> strftime(t, fmt), same format codes
--   time AT TIME ZONE tz is a tz-aware timestamp in DataFusion, the local wall-clock time
--   (TIMESTAMP) in DuckDB: the same hours, weekdays and dates
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain
    FROM traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
)
-- grouped by the local day's first instant (a number), named as text once per group
SELECT strftime(day_start, '%Y-%m-%d') AS day, domain, operator, service_type, traces, source_ips, failures
FROM (
    SELECT
        date_trunc('day', time AT TIME ZONE {{tz}}) AS day_start,
        COALESCE(domain, '(none)') AS domain,
        COALESCE(operator, '(none)') AS operator,
        service_type,
        count(*) AS traces,
        count(DISTINCT NULLIF(source_ip, '')) AS source_ips,
        sum(CASE WHEN lower(trace_rating) IN ('warning', 'incident') THEN 1 ELSE 0 END) AS failures
    FROM t
    GROUP BY 1, 2, 3, 4
) daily
ORDER BY day, domain, operator, service_type
