-- DuckDB translation of sql/reports/off_hours_activity.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   string_to_array -> split_list (macro: DataFusion splits '' into [], DuckDB into [''])
--   to_char(t, fmt) -> strftime(t, fmt), same format codes
--   the local time as text: strftime(local_time, '%Y-%m-%d %H:%M:%S'), where cts casts
--   to_local_time(local_time) (faster than DataFusion's to_char): the same text
--   time AT TIME ZONE tz is a tz-aware timestamp in DataFusion, the local wall-clock time
--   (TIMESTAMP) in DuckDB: the same hours, weekdays and dates
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain,
        time AT TIME ZONE {{tz}} AS local_time
    FROM traces
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
    strftime(local_time, '%Y-%m-%d %H:%M:%S') AS local_time,
    -- the weekday's name from its number (formatting each time with '%A' costs more)
    CASE local_weekday
        WHEN 1 THEN 'Monday' WHEN 2 THEN 'Tuesday' WHEN 3 THEN 'Wednesday' WHEN 4 THEN 'Thursday'
        WHEN 5 THEN 'Friday' WHEN 6 THEN 'Saturday' ELSE 'Sunday'
    END AS local_day,
    trace_type
FROM located
WHERE NOT (
        array_has(split_list(replace({{work_days}}, ' ', ''), ','), CAST(local_weekday AS VARCHAR))
        AND local_hour >= CAST({{work_start}} AS BIGINT)
        AND local_hour < CAST({{work_end}} AS BIGINT)
      )
  AND NOT COALESCE(array_has(split_list(replace({{allowed_operators}}, ' ', ''), ','), operator), false)
ORDER BY time, trace_id
