-- DuckDB translation of sql/reports/security_group_changes.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   json_get_str(x, 'a', 'b') -> json_str(x, '$.a.b') (macro in duckdb_reports.py)
--   json_as_text(x, 'a') -> json_text(x, '$.a') (macro)
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain,
        -- one spelling for all variants: createSecurity-group-rule -> createsecuritygrouprule
        replace(lower(trace_name), '-', '') AS op,
        json_text(request, '$.security_group_rule') AS rule
    FROM traces
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
    COALESCE(json_str(rule, '$.security_group_id'), json_str(rule, '$.parent_group_id'),
             NULLIF(resource_id, '')) AS security_group_id,
    json_str(rule, '$.direction') AS direction,
    COALESCE(json_str(rule, '$.remote_ip_prefix'), json_str(rule, '$.cidr')) AS remote_ip_prefix,
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
