-- name: incidents
-- title: Incidents
-- description: Traces rated incident: operations that caused a serious consequence such as a node failure or a service interruption, including those raised by the cloud itself (SystemAction, without a user). They are failures of the platform or of critical controls that need a response, not only a record.
-- requirements: PCI DSS 10.7.2
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
WITH t AS (
    SELECT
        *
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
      AND lower(trace_rating) = 'incident'
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    trace_type,
    code,
    COALESCE(json_get_str(json_as_text(response, 'error'), 'message'), json_get_str(response, 'error_msg'),
             json_get_str(response, 'message'), location_info) AS error_message
FROM t
ORDER BY time, trace_id
