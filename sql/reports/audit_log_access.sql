-- name: audit_log_access
-- title: Access to audit logs
-- description: Access to the audit trail: CTS getTrace (trace queries and exports from the console or API), and every OBS operation (read, write, delete, policy) on the buckets that hold trace files, given as trace_buckets, or on any object under a CloudTraces/ folder. OBS object-level (data) operations appear only where a CTS data tracker records the bucket. Queries run with this tool are not CTS traces and are not covered.
-- requirements: PCI DSS 10.2.1.3
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
-- param: trace_buckets = '' | Comma-separated names of the OBS buckets CTS delivers trace files to
-- param: allowed_operators = '' | Comma-separated operators not reported (e.g. the agency CTS uses to write trace files)
WITH t AS (
    SELECT
        *,
        -- OBS resource names are "bucket" or "bucket/object key"
        split_part(resource_name, '/', 1) AS bucket
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    CASE
        WHEN upper(service_type) = 'CTS' THEN 'trace query'
        WHEN read_only IS TRUE
          OR lower(trace_name) LIKE 'get%' OR lower(trace_name) LIKE 'list%'
          OR lower(trace_name) LIKE 'head%' THEN 'read'
        ELSE 'write'
    END AS access,
    CASE WHEN upper(service_type) = 'OBS' THEN bucket END AS bucket,
    trace_type,
    tracker_name,
    request
FROM t
WHERE (
        (upper(service_type) = 'CTS' AND lower(trace_name) = 'gettrace')
        OR (upper(service_type) = 'OBS'
            AND (COALESCE(array_has(string_to_array(replace({{trace_buckets}}, ' ', ''), ','), bucket), false)
                 OR resource_name LIKE '%CloudTraces/%'))
      )
  AND NOT COALESCE(array_has(string_to_array(replace({{allowed_operators}}, ' ', ''), ','), operator), false)
ORDER BY time, trace_id
