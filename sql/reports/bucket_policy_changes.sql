-- name: bucket_policy_changes
-- title: OBS bucket policy and ACL changes
-- description: OBS bucket policies set or deleted, bucket ACLs set, and buckets deleted: the controls on who can read stored data. public_access flags a policy or ACL that grants to everyone (principal "*", Everyone or AllUsers). Failed attempts are listed too (see trace_rating).
-- requirements: PCI DSS 10.2.1.7
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
    split_part(resource_name, '/', 1) AS bucket,
    lower(trace_name) IN ('setbucketpolicy', 'setbucketacl')
        AND COALESCE(regexp_like(request, '\\?"\*\\?"|Everyone|AllUsers'), false) AS public_access,
    request,
    code
FROM t
WHERE upper(service_type) = 'OBS'
  AND lower(trace_name) IN ('setbucketpolicy', 'deletebucketpolicy', 'setbucketacl', 'deletebucket')
ORDER BY time, trace_id
