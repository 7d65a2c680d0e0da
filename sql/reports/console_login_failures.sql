-- name: console_login_failures
-- title: Console login failures
-- description: Failed console logins: IAM loginFailed traces, and IAM login traces rated warning or incident. Each row is one failed attempt, with the number of failures of the same operator from the same source IP in the range, so password guessing and credential stuffing stand out; raise min_failures to see only repeated failures.
-- requirements: PCI DSS 10.2.1.4
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
-- param: min_failures = 1 | Report only operator and source IP pairs with at least this many failures in the range
WITH t AS (
    SELECT
        *
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
),
failed AS (
    SELECT *
    FROM t
    WHERE upper(service_type) = 'IAM'
      AND (
            lower(trace_name) = 'loginfailed'
            OR (lower(trace_name) = 'login' AND lower(trace_rating) IN ('warning', 'incident'))
          )
),
counted AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY domain, operator, source_ip) AS failures,
        min(time) OVER (PARTITION BY domain, operator, source_ip) AS first_failure,
        max(time) OVER (PARTITION BY domain, operator, source_ip) AS last_failure
    FROM failed
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    failures,
    first_failure,
    last_failure,
    code,
    json_get_str(json_as_text(message, 'login'), 'reason') AS reason
FROM counted
WHERE failures >= CAST({{min_failures}} AS BIGINT)
ORDER BY time, trace_id
