-- DuckDB translation of sql/reports/error_rate_spike.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   date_bin(INTERVAL '1 hour', time) -> date_trunc('hour', time): the same UTC hours (DataFusion's
--   date_bin is arithmetic on the number; its date_trunc converts every value through the zone)
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain
    FROM traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
),
hourly AS (
    SELECT
        date_trunc('hour', time) AS hour,
        domain,
        operator,
        count(*) AS traces,
        sum(CASE WHEN lower(trace_rating) IN ('warning', 'incident') THEN 1 ELSE 0 END) AS failures
    FROM t
    WHERE operator IS NOT NULL
    GROUP BY 1, 2, 3
),
with_totals AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY domain, operator) AS active_hours,
        sum(failures) OVER (PARTITION BY domain, operator) AS total_failures
    FROM hourly
),
with_baseline AS (
    SELECT
        *,
        CASE
            WHEN active_hours > 1
                THEN CAST(total_failures - failures AS DOUBLE) / CAST(active_hours - 1 AS DOUBLE)
            ELSE 0.0
        END AS baseline
    FROM with_totals
)
SELECT
    hour,
    domain,
    operator,
    traces,
    failures,
    round(baseline, 2) AS baseline_failures_per_hour
FROM with_baseline
WHERE failures >= CAST({{min_failures}} AS BIGINT)
  AND failures >= CAST({{factor}} AS DOUBLE) * baseline
ORDER BY hour, domain, operator
