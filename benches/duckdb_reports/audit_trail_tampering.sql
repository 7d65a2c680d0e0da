-- DuckDB translation of sql/reports/audit_trail_tampering.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   json_get_str(x, 'a', 'b') -> json_str(x, '$.a.b') (macro in duckdb_reports.py)
--   json_as_text(x, 'a') -> json_text(x, '$.a') (macro)
--   last_value(x) IGNORE NULLS OVER -> last_value(x IGNORE NULLS) OVER (DuckDB's spelling)
WITH tracker_ops AS (
    -- every tracker create/update/delete up to the end of the range: the state before the range counts
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain,
        COALESCE(NULLIF(resource_name, ''), json_str(request, '$.tracker_name'), 'system') AS tracker,
        -- v1 and 2017 files: bucket_name at the top; v3: inside obs_info (an object, or JSON text)
        COALESCE(json_str(request, '$.bucket_name'),
                 json_str(json_text(request, '$.obs_info'), '$.bucket_name')) AS bucket,
        COALESCE(json_str(request, '$.file_prefix_name'),
                 json_str(json_text(request, '$.obs_info'), '$.file_prefix_name')) AS prefix,
        lower(json_text(request, '$.status')) AS status,
        lower(json_text(request, '$.is_support_validate')) AS validate,
        lower(COALESCE(json_text(request, '$.is_lts_enabled'),
                       json_text(json_text(request, '$.lts'), '$.is_lts_enabled'))) AS lts,
        lower(json_text(request, '$.is_support_trace_files_encryption')) AS encryption,
        COALESCE(lower(trace_rating), 'normal') = 'normal' AS succeeded
    FROM traces
    WHERE upper(service_type) = 'CTS'
      AND lower(trace_name) IN ('createtracker', 'updatetracker', 'deletetracker')
      AND time < CAST({{to}} AS TIMESTAMP)
),
tracker_state AS (
    SELECT
        *,
        last_value(CASE WHEN succeeded THEN bucket END IGNORE NULLS) OVER (
            PARTITION BY region, tracker ORDER BY time, trace_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_bucket,
        last_value(CASE WHEN succeeded THEN prefix END IGNORE NULLS) OVER (
            PARTITION BY region, tracker ORDER BY time, trace_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_prefix
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
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain,
        CASE
            WHEN lower(trace_name) = 'deletenotification' THEN 'notification deleted'
            WHEN lower(json_text(request, '$.status')) = 'disabled' THEN 'notification disabled'
            ELSE 'notification changed'
        END AS reason
    FROM traces
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
    lower(json_text(request, '$.status')) AS status,
    NULL AS bucket,
    NULL AS previous_bucket,
    NULL AS prefix,
    NULL AS previous_prefix
FROM notification_findings
ORDER BY time, trace_id
