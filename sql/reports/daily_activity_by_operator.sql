-- name: daily_activity_by_operator
-- title: Daily activity by operator
-- description: One row per day, account, operator and service: how many traces, from how many distinct source IPs, and how many failed (rated warning or incident). The daily review an auditor expects, in a form a reviewer can read in minutes; operations of the cloud itself (SystemAction, no user) appear under the operator "(none)". Days are calendar days in the time zone tz.
-- requirements: PCI DSS 10.4.1, 10.4.1.1
-- kind: summary
-- param: from = now() - interval '7 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
-- param: tz = 'UTC' | Time zone of the days, e.g. 'Europe/Berlin'
WITH t AS (
    SELECT
        *
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
)
-- grouped by the local day's first instant (a number), named as text once per group
SELECT to_char(day_start, '%Y-%m-%d') AS day, domain, operator, service_type, traces, source_ips, failures
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
