-- name: federation_changes
-- title: Identity federation changes
-- description: IAM identity providers, mappings and protocols created, updated or deleted. These decide which external identities can log in and which groups (and so which permissions) they get, so an unreviewed change is a way in that bypasses IAM user management.
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
        WHEN lower(trace_name) LIKE '%identityprovider' THEN 'identity provider'
        WHEN lower(trace_name) LIKE '%mapping' THEN 'mapping'
        ELSE 'protocol'
    END AS federation_object,
    request,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) IN (
        'createidentityprovider', 'updateidentityprovider', 'deleteidentityprovider',
        'createmapping', 'updatemapping', 'deletemapping',
        'createprotocol', 'updateprotocol', 'deleteprotocol'
      )
ORDER BY time, trace_id
