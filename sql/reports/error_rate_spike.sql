-- name: error_rate_spike
-- title: Error rate spikes
-- description: Hours in which an operator's failures (traces rated warning or incident) are well above that operator's own baseline: at least min_failures failures in the hour, and at least factor times the operator's average failures per active hour over the rest of the range (other hours in which the operator did anything). An operator active in only one hour has a baseline of 0. Bursts of failures are how permission probing, brute force and broken automation show up.
-- requirements: anomaly (supports PCI DSS 10.2.1.4, 10.4.1)
-- kind: summary
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
-- param: min_failures = 5 | Minimum failures in one hour for that hour to be reported
-- param: factor = 3 | How many times the operator's baseline (average failures per other active hour) the hour must reach
WITH t AS (
    SELECT
        *
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
),
hourly AS (
    SELECT
        date_bin(INTERVAL '1 hour', time) AS hour,  -- UTC hours by arithmetic, not per-row zone lookups
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
