-- name: security_group_open_to_world
-- title: Security group rules open to the world
-- description: Security group rules created or updated (ECS createSgRule, VPC createSecurity-group-rule, updateSecurity-group-rule and their spellings) whose request allows any address: remote_ip_prefix (or the native OpenStack cidr) 0.0.0.0/0 or ::/0. Egress rules to anywhere are normal and left out unless include_egress is 'true'. Batch requests (security_group_rules) are reported when any of their rules is open to the world, whatever its direction. A rule without any remote (which OpenStack also treats as "any") is not reported, since CTS may omit request bodies. Failed attempts are listed too (see trace_rating).
-- requirements: PCI DSS 1.3, 10.2.1.7
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
-- param: include_egress = 'false' | 'true' to report egress rules to 0.0.0.0/0 or ::/0 as well
WITH t AS (
    SELECT
        *,
        -- the rule is an object, or JSON text inside the request
        json_as_text(request, 'security_group_rule') AS rule
    FROM attributed_traces
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
        trim(COALESCE(json_get_str(rule, 'remote_ip_prefix'), json_get_str(rule, 'cidr'),
                      json_get_str(rule, 'ip_range', 'cidr'))) AS remote,
        lower(json_get_str(rule, 'direction')) AS direction,
        -- any rule of the request (batch creation: security_group_rules) with a world-open
        -- remote, at any nesting, quotes escaped or not
        regexp_match(request,
            '"(?:remote_ip_prefix|cidr)\\?"\s*:\s*\\?"\s*(0\.0\.0\.0/0|::/0)\s*\\?"')[1] AS world_remote
    FROM t
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    direction,
    json_get_str(rule, 'ethertype') AS ethertype,
    COALESCE(json_get_str(rule, 'protocol'), json_get_str(rule, 'ip_protocol')) AS protocol,
    COALESCE(json_as_text(rule, 'port_range_min'), json_as_text(rule, 'from_port')) AS port_min,
    COALESCE(json_as_text(rule, 'port_range_max'), json_as_text(rule, 'to_port')) AS port_max,
    COALESCE(remote, world_remote) AS remote_ip_prefix,
    COALESCE(json_get_str(rule, 'security_group_id'), json_get_str(rule, 'parent_group_id'),
             NULLIF(resource_id, '')) AS security_group_id,
    code
FROM rules
WHERE (remote IN ('0.0.0.0/0', '::/0') OR (remote IS NULL AND world_remote IS NOT NULL))
  AND (COALESCE(direction, 'ingress') <> 'egress' OR lower({{include_egress}}) = 'true')
ORDER BY time, trace_id
