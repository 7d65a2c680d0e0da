-- name: account_policy_changes
-- title: Account security policy changes
-- description: Changes to the account-wide IAM policies: security policies (login protection, operation protection, what users may manage themselves), password policies (length, expiry, reuse) and console ACL policies (allowed source networks). acl_open_to_world flags an ACL change that allows 0.0.0.0/0 or ::/0.
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
    CASE lower(trace_name)
        WHEN 'updatesecuritypolicies' THEN 'security'
        WHEN 'updatepasswordpolicies' THEN 'password'
        ELSE 'acl'
    END AS policy,
    lower(trace_name) = 'updateaclpolicies'
        AND COALESCE(regexp_like(request, '(^|[^0-9.])0\.0\.0\.0/0([^0-9]|$)|(^|[^0-9a-fA-F:])::/0([^0-9]|$)'), false)
        AS acl_open_to_world,
    request,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) IN ('updatesecuritypolicies', 'updatepasswordpolicies', 'updateaclpolicies')
ORDER BY time, trace_id
