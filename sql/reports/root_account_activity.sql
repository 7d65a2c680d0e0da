-- name: root_account_activity
-- title: Root account activity
-- description: Every action performed with the account's root identity (the domain owner): traces whose user has principal_is_root_user "true", whose operator name is the account name itself, or IAM logins whose message says user_type "domain owner". The root identity bypasses IAM policies, so PCI DSS expects all of its use to be logged and reviewed; day-to-day work should use IAM users. Source IPs of known break-glass workstations can be left out.
-- requirements: PCI DSS 10.2.1.2
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
-- param: allowed_ips = '' | Comma-separated source IPs whose root activity is not reported (e.g. a break-glass workstation)
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
    trace_type,
    user_type,
    CASE
        WHEN principal_is_root_user IS TRUE THEN 'principal_is_root_user'
        WHEN user_name = user_domain_name THEN 'operator is the account'
        ELSE 'domain owner login'
    END AS reason
FROM t
WHERE (
        principal_is_root_user IS TRUE
        OR (NULLIF(user_name, '') IS NOT NULL AND user_name = user_domain_name)
        OR (upper(service_type) = 'IAM'
            AND lower(json_get_str(json_as_text(message, 'login'), 'user_type')) = 'domain owner')
      )
  AND NOT COALESCE(array_has(string_to_array(replace({{allowed_ips}}, ' ', ''), ','), source_ip), false)
ORDER BY time, trace_id
