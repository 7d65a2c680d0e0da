-- DuckDB translation of sql/reports/new_source_ip.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   string_to_array -> split_list (macro: DataFusion splits '' into [], DuckDB into [''])
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, ''), '') AS domain_key
    FROM traces
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
  AND NOT COALESCE(array_has(split_list(replace({{allowed_ips}}, ' ', ''), ','), d.source_ip), false)
ORDER BY d.time, d.trace_id
