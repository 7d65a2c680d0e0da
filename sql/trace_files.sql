-- trace_files: every source file a load has read, as the manifest last recorded it, and when
-- CTS delivered it (from its name; NULL for files not named like CTS trace files).
--   outcome:   loaded | failed (error says why)
--   integrity: with `cts load --verify`: verified, modified, not covered, pending, or the
--              finding of the digest that lists it when that digest failed its check;
--              NULL when the file was loaded without --verify
-- Registered as a view in every session (src/query/session.rs) over the manifest's segments
-- (`_cts/manifest/*.ndjson` in the archive), where later runs' entries replace earlier ones.
SELECT
    source,
    CASE WHEN m IS NOT NULL THEN
        to_timestamp(m[1] || 'T' || m[2] || ':' || m[3] || ':' || m[4] || 'Z')
    END AS delivered,
    size, etag, outcome, traces, duplicates, rejected, error,
    integrity, integrity_detail, run
FROM (
    SELECT
        *,
        regexp_match(source, '_CloudTrace_[^/]*_(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z_[^/]*$') AS m,
        row_number() OVER (PARTITION BY source ORDER BY run DESC) AS newest
    FROM trace_file_entries
) entries
WHERE newest = 1
