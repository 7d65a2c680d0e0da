-- name: off_hours_activity
-- title: Activity outside working hours
-- description: Console and API actions by a user (every trace type but SystemAction) outside working hours: on days not in work_days, or before work_start or from work_end on, in the local time of tz. Automation accounts that run at night can be left out with allowed_operators. Public holidays are not known to the report.
-- requirements: anomaly (supports PCI DSS 10.4.1)
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
-- param: tz = 'UTC' | Time zone of the working hours, e.g. 'Europe/Berlin'
-- param: work_start = 8 | First working hour (0-23, local time): work starts at this full hour
-- param: work_end = 18 | End of the working day (1-24, local time): from this full hour on is off hours
-- param: work_days = '1,2,3,4,5' | Comma-separated working days, ISO numbering: 1 = Monday ... 7 = Sunday
-- param: allowed_operators = '' | Comma-separated operators never reported (e.g. automation accounts)
WITH t AS (
    SELECT
        *,
        time AT TIME ZONE {{tz}} AS local_time
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
      AND COALESCE(trace_type, '') <> 'SystemAction'
),
located AS (
    SELECT
        *,
        CAST(date_part('hour', local_time) AS BIGINT) AS local_hour,
        CAST(date_part('isodow', local_time) AS BIGINT) AS local_weekday
    FROM t
    WHERE operator IS NOT NULL
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    -- 'YYYY-MM-DD HH:MM:SS' of the local wall-clock time: a cast of the whole seconds is several
    -- times faster per row than to_char's format string
    replace(CAST(date_bin(INTERVAL '1 second', to_local_time(local_time)) AS VARCHAR), 'T', ' ') AS local_time,
    -- the weekday's name from its number (formatting each time with '%A' costs more)
    CASE local_weekday
        WHEN 1 THEN 'Monday' WHEN 2 THEN 'Tuesday' WHEN 3 THEN 'Wednesday' WHEN 4 THEN 'Thursday'
        WHEN 5 THEN 'Friday' WHEN 6 THEN 'Saturday' ELSE 'Sunday'
    END AS local_day,
    trace_type
FROM located
WHERE NOT (
        array_has(string_to_array(replace({{work_days}}, ' ', ''), ','), CAST(local_weekday AS VARCHAR))
        AND local_hour >= CAST({{work_start}} AS BIGINT)
        AND local_hour < CAST({{work_end}} AS BIGINT)
      )
  AND NOT COALESCE(array_has(string_to_array(replace({{allowed_operators}}, ' ', ''), ','), operator), false)
ORDER BY time, trace_id
