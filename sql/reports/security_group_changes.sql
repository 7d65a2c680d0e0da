-- name: security_group_changes
-- title: Security group changes
-- description: Security groups and their rules created, updated or deleted, and security groups added to or removed from servers, under every spelling ECS and VPC use: ECS createSecurityGroup, updateSecurityGroup, addSecurityGroup, removeSecurityGroup, createSgRule, deleteSgRule; VPC createSecurity-group[-rule], updateSecurity-group[-rule], deleteSecurity-group[-rule], and the older createSecurityGroup, modifySecurityGroup. Security groups are the firewall between the cardholder data environment and everything else.
-- requirements: PCI DSS 10.2.1.7, 1.2
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
WITH t AS (
    SELECT
        *,
        -- one spelling for all variants: createSecurity-group-rule -> createsecuritygrouprule
        replace(lower(trace_name), '-', '') AS op,
        json_as_text(request, 'security_group_rule') AS rule
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    CASE
        WHEN op LIKE '%rule' THEN 'rule'
        WHEN op IN ('addsecuritygroup', 'removesecuritygroup') THEN 'server association'
        ELSE 'group'
    END AS change,
    COALESCE(json_get_str(rule, 'security_group_id'), json_get_str(rule, 'parent_group_id'),
             NULLIF(resource_id, '')) AS security_group_id,
    json_get_str(rule, 'direction') AS direction,
    COALESCE(json_get_str(rule, 'remote_ip_prefix'), json_get_str(rule, 'cidr')) AS remote_ip_prefix,
    code
FROM t
WHERE upper(service_type) IN ('ECS', 'VPC')
  AND op IN (
        'createsecuritygroup', 'updatesecuritygroup', 'modifysecuritygroup', 'deletesecuritygroup',
        'addsecuritygroup', 'removesecuritygroup',
        'createsgrule', 'updatesgrule', 'deletesgrule',
        'createsecuritygrouprule', 'updatesecuritygrouprule', 'modifysecuritygrouprule',
        'deletesecuritygrouprule'
      )
ORDER BY time, trace_id
