-- name: mfa_removed
-- title: MFA devices unbound
-- description: IAM UnBindMFA traces: a virtual MFA device removed from a user, after which the user can log in with a password alone. Failed attempts are listed too (see trace_rating).
-- requirements: PCI DSS 10.2.1.5
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
    COALESCE(json_get_str(json_as_text(request, 'unbinding_device'), 'user_id'), resource_id) AS target_user_id,
    json_get_str(json_as_text(request, 'unbinding_device'), 'serial_number') AS device,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) = 'unbindmfa'
ORDER BY time, trace_id
