-- name: trace_coverage
-- title: Trace coverage per day, region and service
-- description: How many traces each region and service delivered per UTC day, from how many operators, and the first and last trace time of the day: evidence that audit logging is enabled and active everywhere it should be, and, over a long range, that the archive still holds the months a retention policy requires. delivery_gaps lists the days that are missing.
-- requirements: PCI DSS 10.2.1, 10.5.1
-- kind: summary
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
-- grouped by the day's first instant (a number), named as text once per group
SELECT to_char(day_start, '%Y-%m-%d') AS day, region, service_type, traces, operators, first_trace, last_trace
FROM (
    SELECT
        date_bin(INTERVAL '1 day', time) AS day_start,  -- UTC days by arithmetic
        COALESCE(region, '(unknown)') AS region,
        COALESCE(service_type, '(none)') AS service_type,
        count(*) AS traces,
        count(DISTINCT operator) AS operators,
        min(time) AS first_trace,
        max(time) AS last_trace
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
    GROUP BY 1, 2, 3
) daily
ORDER BY day, region, service_type
