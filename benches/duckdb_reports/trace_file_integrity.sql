-- DuckDB translation of sql/reports/trace_file_integrity.sql, rendered by
-- benches/duckdb_reports.py with the parameters of that header. What differs:
--   trace_files is the view duckdb_reports.py creates over the manifest (sql/trace_files.sql
--   in DuckDB's functions: regexp_extract for regexp_match, read_json of the segments)
--   date_bin(INTERVAL '1 day', delivered) -> date_trunc('day', delivered): the same UTC days
--   to_char -> strftime
SELECT
    COALESCE(strftime(date_trunc('day', delivered), '%Y-%m-%d'), '(unknown)') AS day,
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
