-- name: failed_operations
-- title: Failed operations
-- description: Every trace rated warning (the operation failed) or incident (it caused a serious consequence such as a node failure or service interruption), from any service, with the number of failures of the same operator on the same service in the range and the error the service returned. Repeated failures are the trail of a misconfigured automation or of someone probing permissions.
-- requirements: PCI DSS 10.2.1.4
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
WITH t AS (
    -- text as plain Utf8 (arrow_cast), not the Utf8View the archive is read as: a view batch
    -- keeps its Parquet pages' buffers and the final sort counts them whole for every batch,
    -- so over 10 M traces it failed at a 4 GB and an 8 GB limit alike; as plain text the same
    -- 1.09 M failed traces sort within 1.1 GB of RSS
    SELECT
        time,
        arrow_cast(service_type, 'Utf8') AS service_type,
        arrow_cast(resource_type, 'Utf8') AS resource_type,
        arrow_cast(resource_name, 'Utf8') AS resource_name,
        arrow_cast(trace_name, 'Utf8') AS trace_name,
        arrow_cast(trace_rating, 'Utf8') AS trace_rating,
        arrow_cast(operator, 'Utf8') AS operator,
        arrow_cast(domain, 'Utf8') AS domain,
        arrow_cast(source_ip, 'Utf8') AS source_ip,
        arrow_cast(trace_id, 'Utf8') AS trace_id,
        arrow_cast(code, 'Utf8') AS code,
        arrow_cast(response, 'Utf8') AS response
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
      AND lower(trace_rating) IN ('warning', 'incident')
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    count(*) OVER (PARTITION BY service_type, domain, operator) AS failures_by_service_operator,
    code,
    -- the two error shapes services return: {"error": {"code", "message"}} and {"code", "message"}
    COALESCE(json_get_str(json_as_text(response, 'error'), 'code'), json_as_text(response, 'error_code'),
             json_as_text(response, 'code')) AS error_code,
    COALESCE(json_get_str(json_as_text(response, 'error'), 'message'), json_get_str(response, 'error_msg'),
             json_get_str(response, 'message')) AS error_message
FROM t
ORDER BY time, trace_id
