-- name: key_management_changes
-- title: Key management changes
-- description: KMS (DEW) keys disabled, scheduled for deletion, deleted, stripped of imported key material, or with automatic rotation turned off. Disabling or deleting a key makes every piece of data encrypted with it unreadable; turning rotation off weakens the cryptoperiod. Failed attempts are listed too (see trace_rating).
-- requirements: PCI DSS 10.2.1.7, 3.6
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
    COALESCE(json_get_str(request, 'key_id'), NULLIF(resource_id, '')) AS key_id,
    json_as_text(request, 'pending_days') AS pending_days,
    code
FROM t
WHERE upper(service_type) IN ('KMS', 'DEW')
  AND lower(trace_name) IN (
        'disablekey',
        'schedulekeydeletion',
        'deletekey',
        'deleteimportedkeymaterial',
        'disablekeyrotation'
      )
ORDER BY time, trace_id
