-- name: identity_lifecycle
-- title: IAM user and group lifecycle
-- description: IAM users created, updated or deleted, and user groups created, updated or deleted, and users removed from groups: the changes to identities an auditor reconciles against joiner/mover/leaver records. Adding users to groups grants privileges and is in privilege_escalation.
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
    CASE
        WHEN lower(trace_name) LIKE 'create%' THEN 'create'
        WHEN lower(trace_name) LIKE 'update%' THEN 'update'
        WHEN lower(trace_name) LIKE 'remove%' THEN 'remove member'
        ELSE 'delete'
    END AS change,
    CASE WHEN lower(trace_name) LIKE '%group' THEN 'user group' ELSE 'user' END AS identity,
    COALESCE(json_get_str(json_as_text(request, 'user'), 'enabled'),
             CAST(json_get_bool(json_as_text(request, 'user'), 'enabled') AS VARCHAR)) AS enabled,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) IN (
        'createuser',
        'updateuser',
        'deleteuser',
        'createusergroup',
        'updateusergroup',
        'deleteusergroup',
        'removeuserfromgroup'
      )
ORDER BY time, trace_id
