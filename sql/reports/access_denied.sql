-- name: access_denied
-- title: Access denied (HTTP 401 and 403)
-- description: Traces whose HTTP status code is 401 (not authenticated) or 403 (not authorised), whether code arrived as a number or as a string: invalid logical access attempts, whatever the rating says.
-- requirements: PCI DSS 10.2.1.4
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
WITH t AS (
    SELECT
        *
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    trim(code) AS code,
    trace_type,
    COALESCE(json_get_str(json_as_text(response, 'error'), 'message'), json_get_str(response, 'error_msg'),
             json_get_str(response, 'message')) AS error_message
FROM t
-- code is text: 403, "403" and 403.0 all read as the number 403
WHERE TRY_CAST(trim(code) AS DOUBLE) IN (401, 403)
ORDER BY time, trace_id
