-- name: network_changes
-- title: Network changes
-- description: Changes to the network boundary: VPCs, subnets and routers (routes, router interfaces) created, modified or deleted; elastic IPs created, bound, unbound or deleted (and ECS floating IPs); NAT gateways and their SNAT/DNAT rules. Security groups have their own report (security_group_changes). Failed attempts are listed too (see trace_rating).
-- requirements: PCI DSS 10.2.1.7, 1.2
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
WITH t AS (
    SELECT
        *,
        lower(trace_name) AS op
    FROM attributed_traces
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
