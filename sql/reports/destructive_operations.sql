-- name: destructive_operations
-- title: Destructive operations
-- description: Deletion of system-level objects that hold data or carry the service: servers (ECS, BMS deleteServer, deleteServerV2), volumes (EVS deleteVolume), databases (RDS, DDS, DCS, DWS, GaussDB, TaurusDB deleteInstance or deleteCluster), VPCs (deleteVpc) and buckets (OBS deleteBucket). Asynchronous operations can appear twice (request and result trace). Failed attempts are listed too (see trace_rating).
-- requirements: PCI DSS 10.2.1.7
-- kind: detection
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
WITH t AS (
    SELECT
        *,
        upper(service_type) AS svc,
        lower(trace_name) AS op
    FROM attributed_traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
      -- every operation named below: a cheap first filter, so that only these traces are classified
      AND lower(trace_name) IN ('deleteserver', 'deleteserverv2', 'deleteservers', 'deletevolume',
                                'deletevolumev2', 'deleteinstance', 'deletecluster', 'deletevpc',
                                'deletebucket')
),
deletions AS (
    SELECT
        *,
        CASE
            WHEN svc IN ('ECS', 'BMS') AND op IN ('deleteserver', 'deleteserverv2', 'deleteservers')
                THEN 'server'
            WHEN svc = 'EVS' AND op IN ('deletevolume', 'deletevolumev2')
                THEN 'volume'
            WHEN (svc IN ('RDS', 'DDS', 'DCS', 'DWS') OR svc LIKE 'GAUSSDB%' OR svc LIKE 'TAURUS%')
                 AND op IN ('deleteinstance', 'deletecluster')
                THEN 'database'
            WHEN svc = 'VPC' AND op = 'deletevpc'
                THEN 'vpc'
            WHEN svc = 'OBS' AND op = 'deletebucket'
                THEN 'bucket'
        END AS resource_class
    FROM t
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    resource_class,
    resource_id,
    code
FROM deletions
WHERE resource_class IS NOT NULL
ORDER BY time, trace_id
