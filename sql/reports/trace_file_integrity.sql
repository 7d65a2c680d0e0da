-- name: trace_file_integrity
-- title: Trace file integrity
-- description: What the digest chains say of every trace file loaded, per UTC day CTS delivered it: verified (its hash matches a digest whose signature and place in its chain check out), modified, deleted (a digest lists it, the bucket no longer holds it), not covered (no digest lists it), pending (its hour's digest was not written yet), a failed digest's finding, or not checked (loaded without cts load --verify). Evidence that the audit trail was not altered after it was written; problem_files names the files behind each problem row. From the archive's manifest (the trace_files table); files not named like CTS trace files have no delivery time and are counted under day (unknown), whatever the range.
-- requirements: PCI DSS 10.3.2, 10.3.3, 10.3.4, 10.5.1
-- kind: summary
-- param: from = now() - interval '30 days' | Start of the time range (inclusive): an SQL timestamp expression, or a date/time such as '2024-06-01' or '2024-06-01T08:00:00Z'
-- param: to = now() | End of the time range (exclusive)
SELECT
    COALESCE(to_char(date_bin(INTERVAL '1 day', delivered), '%Y-%m-%d'), '(unknown)') AS day,
    COALESCE(integrity, 'not checked') AS integrity,
    count(*) AS files,
    sum(traces) AS traces,
    CASE WHEN COALESCE(integrity, 'not checked') NOT IN ('verified', 'pending', 'not checked')
        THEN string_agg(source, ' ' ORDER BY source)
    END AS problem_files
FROM trace_files
WHERE (delivered >= CAST({{from}} AS TIMESTAMP) AND delivered < CAST({{to}} AS TIMESTAMP))
   OR delivered IS NULL
GROUP BY 1, 2
ORDER BY day, integrity
