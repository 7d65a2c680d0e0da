-- name: delivery_gaps
-- title: Gaps in trace delivery
-- description: Days (or hours) without a single trace for a region and service that normally has them, and for a region as a whole (service_type "(all)"): the sign that logging stopped, a tracker was disabled or trace files did not arrive. A series is checked from its first day (or hour) with traces in the range to the end of the range, and only when it had traces in at least min_coverage of those days; the current, unfinished day is not checked. Consecutive empty days are one row: gap_start (inclusive) to gap_end (exclusive), in UTC. Traces loaded from files outside a CloudTraces/<region>/ folder have region "(unknown)".
-- requirements: PCI DSS 10.2.1, 10.7.2
-- kind: summary
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
-- param: granularity = 'day' | 'day' or 'hour': the length of the periods checked
-- param: min_coverage = 0.5 | Check only series with traces in at least this share (0-1) of their periods
WITH settings AS (
    SELECT
        CAST({{from}} AS TIMESTAMP) AS range_start,
        CAST({{to}} AS TIMESTAMP) AS range_end,
        lower({{granularity}}) = 'hour' AS hourly
),
periods AS (
    -- every whole period within the range that has ended
    SELECT period, CAST(to_unixtime(period) AS BIGINT) / step_seconds AS period_no, step_seconds
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
      AND to_unixtime(period) + step_seconds <= to_unixtime(range_end)
      AND to_unixtime(period) + step_seconds <= to_unixtime(now())
),
series_activity AS (
    -- the periods with traces of each region and service, and of each region as a whole: one
    -- scan of traces (DataFusion does not materialise a CTE named twice; each name is a scan)
    SELECT
        COALESCE(region, '(unknown)') AS region,
        CASE WHEN grouping(service_type) = 1 THEN '(all)'
             ELSE COALESCE(service_type, '(none)') END AS service_type,
        period
    FROM (
        SELECT
            region,
            service_type,
            -- date_bin: UTC hours and days by arithmetic (date_trunc goes through the zone per row)
            CASE WHEN s.hourly THEN CAST(date_bin(INTERVAL '1 hour', time) AS TIMESTAMP)
                 ELSE CAST(date_bin(INTERVAL '1 day', time) AS TIMESTAMP) END AS period
        FROM traces, settings s
        WHERE time >= CAST({{from}} AS TIMESTAMP)
          AND time < CAST({{to}} AS TIMESTAMP)
    ) t
    GROUP BY GROUPING SETS ((region, service_type, period), (region, period))
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
    to_timestamp_seconds(max(to_unixtime(period)) + max(step_seconds)) AT TIME ZONE 'UTC' AS gap_end,
    count(*) AS missing_buckets,
    round(CAST(max(active_periods) AS DOUBLE) / CAST(max(checked_periods) AS DOUBLE), 2) AS coverage
FROM gaps
GROUP BY region, service_type, gap_start
ORDER BY region, service_type, gap_start
