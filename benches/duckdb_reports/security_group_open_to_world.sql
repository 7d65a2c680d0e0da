-- DuckDB translation of sql/reports/security_group_open_to_world.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   json_get_str(x, 'a', 'b') -> json_str(x, '$.a.b') (macro in duckdb_reports.py)
--   json_as_text(x, 'a') -> json_text(x, '$.a') (macro)
--   regexp_match(s, p)[1] -> NULLIF(regexp_extract(s, p, 1), ''): no match is '' in DuckDB
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain,
        -- the rule is an object, or JSON text inside the request
        json_text(request, '$.security_group_rule') AS rule
    FROM traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
      AND upper(service_type) IN ('ECS', 'VPC')
      AND replace(lower(trace_name), '-', '') IN (
            'createsgrule', 'updatesgrule',
            'createsecuritygrouprule', 'updatesecuritygrouprule', 'modifysecuritygrouprule')
),
rules AS (
    SELECT
        *,
        trim(COALESCE(json_str(rule, '$.remote_ip_prefix'), json_str(rule, '$.cidr'),
                      json_str(rule, '$.ip_range.cidr'))) AS remote,
        lower(json_str(rule, '$.direction')) AS direction,
        -- any rule of the request (batch creation: security_group_rules) with a world-open
        -- remote, at any nesting, quotes escaped or not
        NULLIF(regexp_extract(request, '"(?:remote_ip_prefix|cidr)\\?"\s*:\s*\\?"\s*(0\.0\.0\.0/0|::/0)\s*\\?"', 1), '') AS world_remote
    FROM t
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    direction,
    json_str(rule, '$.ethertype') AS ethertype,
    COALESCE(json_str(rule, '$.protocol'), json_str(rule, '$.ip_protocol')) AS protocol,
    COALESCE(json_text(rule, '$.port_range_min'), json_text(rule, '$.from_port')) AS port_min,
    COALESCE(json_text(rule, '$.port_range_max'), json_text(rule, '$.to_port')) AS port_max,
    COALESCE(remote, world_remote) AS remote_ip_prefix,
    COALESCE(json_str(rule, '$.security_group_id'), json_str(rule, '$.parent_group_id'),
             NULLIF(resource_id, '')) AS security_group_id,
    code
FROM rules
WHERE (remote IN ('0.0.0.0/0', '::/0') OR (remote IS NULL AND world_remote IS NOT NULL))
  AND (COALESCE(direction, 'ingress') <> 'egress' OR lower({{include_egress}}) = 'true')
ORDER BY time, trace_id
