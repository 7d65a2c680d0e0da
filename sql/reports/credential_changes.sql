-- name: credential_changes
-- title: Changes to authentication credentials
-- description: Every change to IAM authentication credentials: access keys (AK/SK) created or deleted, and passwords changed by the user or set by an administrator (changePassword, updateUserPwd, modifyUserPassword, setPasswordByAdmin). Failed attempts are listed too (see trace_rating).
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
        WHEN lower(trace_name) IN ('addcredential', 'deletecredential') THEN 'access key'
        ELSE 'password'
    END AS credential,
    -- whose credential: the resource, else the user named in the request
    COALESCE(NULLIF(resource_name, ''),
             json_get_str(json_as_text(request, 'credential'), 'user_id'),
             resource_id) AS target,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) IN (
        'addcredential',
        'deletecredential',
        'changepassword',
        'updateuserpwd',
        'setpasswordbyadmin',
        'modifyuserpassword'
      )
ORDER BY time, trace_id
