-- DuckDB translation of sql/reports/privilege_escalation.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   json_get_str(x, 'a', 'b') -> json_str(x, '$.a.b') (macro in duckdb_reports.py)
--   json_as_text(x, 'a') -> json_text(x, '$.a') (macro)
WITH t AS (
    SELECT
        *,
        COALESCE(NULLIF(user_name, ''), NULLIF(user_id, ''), NULLIF(principal_id, ''), NULLIF(access_key_id, '')) AS operator,
        COALESCE(NULLIF(user_domain_name, ''), NULLIF(user_domain_id, ''), NULLIF(domain_id, '')) AS domain
    FROM traces
    WHERE time >= CAST({{from}} AS TIMESTAMP)
      AND time < CAST({{to}} AS TIMESTAMP)
)
SELECT
    time, service_type, resource_type, resource_name, trace_name, trace_rating,
    operator, domain, source_ip, trace_id,
    json_str(request, '$.group_name') AS group_name,
    json_str(request, '$.role_name') AS role_name,
    COALESCE(json_str(request, '$.user_id'), json_str(json_text(request, '$.user'), '$.id')) AS member_user_id,
    json_str(json_text(request, '$.agency'), '$.name') AS agency_name,
    json_str(json_text(request, '$.agency'), '$.trust_domain_name') AS trusted_domain,
    code
FROM t
WHERE upper(service_type) = 'IAM'
  AND lower(trace_name) IN (
        'assignroletogroupondomain',
        'assignroletogrouponproject',
        'addusertogroup',
        'createagency',
        'updateagency'
      )
ORDER BY time, trace_id
