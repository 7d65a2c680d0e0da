-- DuckDB translation of sql/reports/network_changes.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   nothing: the same SQL runs in both
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain,
        lower(trace_name) AS op
    FROM traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
      -- the services and operations named below: cheap first filters, so that only their traces
      -- are classified
      AND upper(service_type) IN ('VPC', 'ECS', 'NAT')
      AND (lower(trace_name) IN ('createvpc', 'modifyvpc', 'updatevpc', 'deletevpc',
                                 'createsubnet', 'modifysubnet', 'updatesubnet', 'deletesubnet',
                                 'createrouter', 'updaterouter', 'deleterouter',
                                 'createroutetable', 'updateroutetable', 'deleteroutetable',
                                 'createvpcpeering', 'updatevpcpeering', 'deletevpcpeering',
                                 'createeip', 'bindeip', 'unbindeip', 'deleteeip',
                                 'createfloatingip', 'deletefloatingip',
                                 'createnatgateway', 'updatenatgateway', 'deletenatgateway',
                                 'createsnatrule', 'updatesnatrule', 'deletesnatrule',
                                 'creatednatrule', 'updatednatrule', 'deletednatrule')
           OR lower(trace_name) LIKE 'addrouterinterface%'
           OR lower(trace_name) LIKE 'removerouterinterface%')
),
changes AS (
    SELECT
        *,
        CASE
            WHEN upper(service_type) = 'VPC' AND op IN ('createvpc', 'modifyvpc', 'updatevpc', 'deletevpc')
                THEN 'vpc'
            WHEN upper(service_type) = 'VPC' AND op IN ('createsubnet', 'modifysubnet', 'updatesubnet', 'deletesubnet')
                THEN 'subnet'
            WHEN upper(service_type) = 'VPC'
                 AND (op IN ('createrouter', 'updaterouter', 'deleterouter',
                             'createroutetable', 'updateroutetable', 'deleteroutetable',
                             'createvpcpeering', 'updatevpcpeering', 'deletevpcpeering')
                      OR op LIKE 'addrouterinterface%' OR op LIKE 'removerouterinterface%')
                THEN 'routing'
            WHEN upper(service_type) = 'VPC' AND op IN ('createeip', 'bindeip', 'unbindeip', 'deleteeip')
                THEN 'eip'
            WHEN upper(service_type) = 'ECS' AND op IN ('createfloatingip', 'deletefloatingip')
                THEN 'eip'
            WHEN upper(service_type) IN ('NAT', 'VPC')
                 AND op IN ('createnatgateway', 'updatenatgateway', 'deletenatgateway',
                            'createsnatrule', 'updatesnatrule', 'deletesnatrule',
                            'creatednatrule', 'updatednatrule', 'deletednatrule')
                THEN 'nat'
        END AS network_object
    FROM t
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    network_object,
    request,
    code
FROM changes
WHERE network_object IS NOT NULL
ORDER BY time, trace_id
