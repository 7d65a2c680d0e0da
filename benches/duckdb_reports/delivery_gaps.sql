-- DuckDB translation of sql/reports/delivery_gaps.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   to_unixtime -> epoch
--   date_bin(INTERVAL '1 hour' or '1 day', time) -> date_trunc('hour' or 'day', time): the same
--   UTC hours and days (DataFusion's date_bin is arithmetic on the number; its date_trunc
--   converts every value through the zone)
--   BIGINT / BIGINT -> //: DuckDB's / divides as DOUBLE
--   to_timestamp_seconds(s) AT TIME ZONE 'UTC' -> to_timestamp(s): already a UTC timestamp
--   (TIMESTAMPTZ) in DuckDB, where AT TIME ZONE would make it a local one
WITH settings AS (
    SELECT
        CAST({{from}} AS TIMESTAMP) AS range_start,
        CAST({{to}} AS TIMESTAMP) AS range_end,
        lower({{granularity}}) = 'hour' AS hourly
),
periods AS (
    -- every whole period within the range that has ended
    SELECT period, CAST(epoch(period) AS BIGINT) // step_seconds AS period_no, step_seconds
    FROM (
        SELECT
            unnest(generate_series(
                CASE WHEN hourly THEN date_trunc('hour', range_start) ELSE date_trunc('day', range_start) END,
                range_end,
                CASE WHEN hourly THEN INTERVAL '1 hour' ELSE INTERVAL '1 day' END)) AS period,
            CASE WHEN hourly THEN 3600 ELSE 86400 END AS step_seconds,
            range_start,
            range_end
        FROM settings
    ) p
    WHERE period >= range_start
      AND epoch(period) + step_seconds <= epoch(range_end)
      AND epoch(period) + step_seconds <= epoch(now())
),
activity AS (
    SELECT DISTINCT
        COALESCE(region, '(unknown)') AS region,
        service_type,
        CASE WHEN s.hourly THEN CAST(date_trunc('hour', time) AS TIMESTAMP)
             ELSE CAST(date_trunc('day', time) AS TIMESTAMP) END AS period
    FROM traces, settings s
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
),
series_activity AS (
    SELECT region, COALESCE(service_type, '(none)') AS service_type, period FROM activity
    UNION
    SELECT region, '(all)' AS service_type, period FROM activity
),
series AS (
    SELECT region, service_type, min(period) AS first_period, count(DISTINCT period) AS active_periods
    FROM series_activity
    GROUP BY region, service_type
),
checked AS (
    -- concat(x, '') on purpose: DataFusion 55 carries "one row per region and service" from the
    -- GROUP BY in series through this one-to-many join and would then drop the gap_start key
    -- of the final ORDER BY; an expression column carries no such dependency
    SELECT concat(s.region, '') AS region, concat(s.service_type, '') AS service_type,
           s.active_periods, p.period, p.period_no, p.step_seconds,
           count(*) OVER (PARTITION BY s.region, s.service_type) AS checked_periods
    FROM series s
    JOIN periods p ON p.period >= s.first_period
),
empty AS (
    SELECT c.*,
           c.period_no - row_number() OVER (PARTITION BY c.region, c.service_type ORDER BY c.period) AS run
    FROM checked c
    LEFT JOIN series_activity a
        ON a.region = c.region AND a.service_type = c.service_type AND a.period = c.period
    WHERE a.period IS NULL
      AND CAST(c.active_periods AS DOUBLE) / CAST(c.checked_periods AS DOUBLE) >= CAST({{min_coverage}} AS DOUBLE)
),
gaps AS (
    -- consecutive empty periods share a run; each run is one gap, named by its first period
    SELECT *, min(period) OVER (PARTITION BY region, service_type, run) AT TIME ZONE 'UTC' AS gap_start
    FROM empty
)
SELECT
    region,
    service_type,
    gap_start,
    to_timestamp(max(epoch(period)) + max(step_seconds)) AS gap_end,
    count(*) AS missing_buckets,
    round(CAST(max(active_periods) AS DOUBLE) / CAST(max(checked_periods) AS DOUBLE), 2) AS coverage
FROM gaps
GROUP BY region, service_type, gap_start
ORDER BY region, service_type, gap_start
