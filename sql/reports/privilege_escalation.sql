-- name: privilege_escalation
-- title: Privilege escalation
-- description: IAM changes that grant privileges: roles assigned to a user group on the account (domain) or on a project, users added to a group, and agencies (delegations to other accounts or cloud services) created or updated. Failed attempts are listed too (see trace_rating). Revocations (unassign, remove, delete) are not escalations and are left out.
-- requirements: PCI DSS 10.2.1.2
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
    json_get_str(request, 'group_name') AS group_name,
    json_get_str(request, 'role_name') AS role_name,
    COALESCE(json_get_str(request, 'user_id'), json_get_str(json_as_text(request, 'user'), 'id')) AS member_user_id,
    json_get_str(json_as_text(request, 'agency'), 'name') AS agency_name,
    json_get_str(json_as_text(request, 'agency'), 'trust_domain_name') AS trusted_domain,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) IN (
        'assignroletogroupondomain',
        'assignroletogrouponproject',
        'addusertogroup',
        'createagency',
        'updateagency'
      )
ORDER BY time, trace_id
