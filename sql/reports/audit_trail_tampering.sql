-- name: audit_trail_tampering
-- title: Audit trail tampering
-- description: Changes that stop, divert or weaken the audit trail itself: CTS trackers deleted; trackers updated to status disabled, to turn off trace file verification (is_support_validate), transfer to LTS or trace file encryption, or to send traces to another OBS bucket or file prefix; key event notifications updated, disabled or deleted. A bucket or prefix change is found by comparing with the last successful create or update of the same tracker (in the same region) before it, however long before the range that was; the first update ever seen of a tracker is only reported when it disables something. Failed attempts are listed too (see trace_rating).
-- requirements: PCI DSS 10.2.1.6, 10.7.2
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
WITH tracker_ops AS (
    -- every tracker create/update/delete up to the end of the range: the state before the range counts
    SELECT
        *,
        COALESCE(NULLIF(resource_name, ''), json_get_str(request, 'tracker_name'), 'system') AS tracker,
        -- v1 and 2017 files: bucket_name at the top; v3: inside obs_info (an object, or JSON text)
        COALESCE(json_get_str(request, 'bucket_name'),
                 json_get_str(json_as_text(request, 'obs_info'), 'bucket_name')) AS bucket,
        COALESCE(json_get_str(request, 'file_prefix_name'),
                 json_get_str(json_as_text(request, 'obs_info'), 'file_prefix_name')) AS prefix,
        lower(json_as_text(request, 'status')) AS status,
        lower(json_as_text(request, 'is_support_validate')) AS validate,
        lower(COALESCE(json_as_text(request, 'is_lts_enabled'),
                       json_as_text(json_as_text(request, 'lts'), 'is_lts_enabled'))) AS lts,
        lower(json_as_text(request, 'is_support_trace_files_encryption')) AS encryption,
        COALESCE(lower(trace_rating), 'normal') = 'normal' AS succeeded
    FROM attributed_traces
    WHERE upper(service_type) = 'CTS'
      AND lower(trace_name) IN ('createtracker', 'updatetracker', 'deletetracker')
      AND time < CAST({{to}} AS TIMESTAMP)
),
tracker_state AS (
    SELECT
        *,
        -- the value of the latest earlier successful operation that set one: the greatest
        -- "time, trace ID, value" key before the row (an aggregate skips NULLs; not
        -- last_value(...) IGNORE NULLS, whose IGNORE NULLS a cluster's plan loses)
        split_part(max(CASE WHEN succeeded AND bucket IS NOT NULL THEN
                lpad(CAST(CAST(time AS BIGINT) AS VARCHAR), 20, '0') || chr(1)
                || COALESCE(trace_id, '') || chr(1) || bucket END) OVER (
            PARTITION BY region, tracker ORDER BY time, trace_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), chr(1), 3) AS previous_bucket,
        split_part(max(CASE WHEN succeeded AND prefix IS NOT NULL THEN
                lpad(CAST(CAST(time AS BIGINT) AS VARCHAR), 20, '0') || chr(1)
                || COALESCE(trace_id, '') || chr(1) || prefix END) OVER (
            PARTITION BY region, tracker ORDER BY time, trace_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), chr(1), 3) AS previous_prefix
    FROM tracker_ops
),
tracker_findings AS (
    SELECT
        *,
        CASE WHEN lower(trace_name) = 'deletetracker' THEN 'tracker deleted' ELSE
            concat_ws(', ',
                CASE WHEN status = 'disabled' THEN 'tracker disabled' END,
                CASE WHEN validate = 'false' THEN 'file verification off' END,
                CASE WHEN lts = 'false' THEN 'LTS transfer off' END,
                CASE WHEN encryption = 'false' THEN 'encryption off' END,
                CASE WHEN bucket <> previous_bucket THEN 'bucket changed' END,
                CASE WHEN prefix <> previous_prefix THEN 'file prefix changed' END)
        END AS reason
    FROM tracker_state
    WHERE time >= CAST({{from}} AS TIMESTAMP)
),
notification_findings AS (
    SELECT
        *,
        CASE
            WHEN lower(trace_name) = 'deletenotification' THEN 'notification deleted'
            WHEN lower(json_as_text(request, 'status')) = 'disabled' THEN 'notification disabled'
            ELSE 'notification changed'
        END AS reason
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
      AND upper(service_type) = 'CTS'
      AND lower(trace_name) IN ('deletenotification', 'updatenotification', 'updatenotificationstatus')
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    reason,
    tracker,
    status,
    bucket,
    previous_bucket,
    prefix,
    previous_prefix
FROM tracker_findings
WHERE reason <> ''
UNION ALL
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    reason,
    NULL AS tracker,
    lower(json_as_text(request, 'status')) AS status,
    NULL AS bucket,
    NULL AS previous_bucket,
    NULL AS prefix,
    NULL AS previous_prefix
FROM notification_findings
ORDER BY time, trace_id
