-- name: new_source_ip
-- title: Operators seen from a new source IP
-- description: The first trace of each operator from a source IP that operator did not use in the baseline window [from, detect_from). One row per new operator and IP pair, at its first use in the detection window [detect_from, to), with how many traces came from it; operator_seen_before is false when the operator did not appear in the baseline at all. A new IP for a long-standing account is a classic sign of stolen credentials. Traces without a user or source IP (SystemAction) are ignored.
-- requirements: anomaly (supports PCI DSS 10.4.1, 10.2.1.2)
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the baseline window (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: detect_from = CAST({{to}} AS TIMESTAMP) - interval '1 day' | Start of the detection window (inclusive): by default the last day before `to`; traces in [from, detect_from) are the baseline
-- param: to = now() | End of the detection window (exclusive)
-- param: allowed_ips = '' | Comma-separated source IPs never reported (e.g. corporate NAT gateways)
WITH t AS (
    SELECT
        *,
        COALESCE(domain, '') AS domain_key
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
      AND NULLIF(source_ip, '') IS NOT NULL
),
seen AS (
    SELECT * FROM t WHERE operator IS NOT NULL
),
baseline_ips AS (
    SELECT DISTINCT domain_key, operator, source_ip
    FROM seen
    WHERE time < CAST({{detect_from}} AS TIMESTAMP)
),
baseline_operators AS (
    SELECT DISTINCT domain_key, operator
    FROM seen
    WHERE time < CAST({{detect_from}} AS TIMESTAMP)
),
detection AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY domain_key, operator, source_ip ORDER BY time, trace_id) AS nth,
        count(*) OVER (PARTITION BY domain_key, operator, source_ip) AS traces_from_ip
    FROM seen
    WHERE time >= CAST({{detect_from}} AS TIMESTAMP)
)
SELECT
    d.time, d.service_type, d.resource_type, d.resource_name, d.trace_name, d.trace_rating,
    d.operator, NULLIF(d.domain_key, '') AS domain, d.source_ip, d.trace_id,
    d.traces_from_ip,
    o.operator IS NOT NULL AS operator_seen_before,
    d.trace_type,
    d.user_agent
FROM detection d
LEFT JOIN baseline_ips b
    ON b.domain_key = d.domain_key AND b.operator = d.operator AND b.source_ip = d.source_ip
LEFT JOIN baseline_operators o
    ON o.domain_key = d.domain_key AND o.operator = d.operator
WHERE d.nth = 1
  AND b.source_ip IS NULL
  AND NOT COALESCE(array_has(string_to_array(replace({{allowed_ips}}, ' ', ''), ','), d.source_ip), false)
ORDER BY d.time, d.trace_id
