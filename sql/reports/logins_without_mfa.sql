-- name: logins_without_mfa
-- title: Console logins without MFA
-- description: Successful IAM console logins made without multi-factor authentication: the login message shows login_protect.status "off", or the session context says mfa_authenticated is false. PCI DSS requires MFA for all access into the cardholder data environment and for all administrative access; each row is a login that did not use it.
-- requirements: PCI DSS 10.2.1.2, 8.4
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
WITH t AS (
    SELECT
        *,
        -- message is {"login": {...}}; "login" may itself arrive as JSON text
        json_as_text(message, 'login') AS login
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    json_get_str(login, 'login_protect', 'status') AS login_protect,
    mfa_authenticated,
    json_get_str(login, 'mode') AS login_mode,
    user_type
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) = 'login'
  AND COALESCE(lower(trace_rating), 'normal') = 'normal'
  AND (
        lower(json_get_str(login, 'login_protect', 'status')) = 'off'
        OR mfa_authenticated IS FALSE
      )
ORDER BY time, trace_id
