"""The report pack of `cts report pack`, in DuckDB over the same Parquet files, in-process.

usage: duckdb_reports.py ARCHIVE_DIR FROM TO [--out DIR] [--only NAME[,NAME...]] [--param NAME=VALUE ...]
  -> one line `name rows ms` per report, then `total rows ms`

Each report is the translation in benches/duckdb_reports/NAME.sql of sql/reports/NAME.sql (a
comment at its top says what differs), rendered as cts renders a report (src/report.rs): the
parameters and defaults come from the header of sql/reports/NAME.sql, `{{name}}` becomes a given
value as a quoted SQL string, or else the default as SQL text (which may name another parameter).
FROM and TO are given, as `cts report pack --from FROM --to TO` gives them; `--param` gives more,
to the reports that have that parameter (fixture checks; the pack takes none).

What it does is what the pack does, short of the HTML page: the traces per day by rating of the
range (the pack's chart), then every report in name order, each written whole to NAME.csv in
`--out` (a temporary folder by default) with COPY. `total` is the wall time of all of that, after
the view is created; each report's ms is its own COPY.
"""
import pathlib
import re
import sys
import tempfile
import time

import duckdb

HERE = pathlib.Path(__file__).resolve().parent
REPORTS = HERE.parent / "sql" / "reports"
TRANSLATIONS = HERE / "duckdb_reports"

# The functions of the reports that DuckDB spells differently or does not have, with the
# semantics the reports get from DataFusion and datafusion-functions-json:
MACROS = [
    # json_get_str(x, 'a', 'b'): the value at the path if it is a JSON string, else NULL; NULL
    # also when x is not JSON at all (empty, or plain text such as a message "success": 28% of
    # request, 39% of response and 62% of message values in a generated bucket). DuckDB's
    # json_extract_string fails on text that is not JSON, and returns any other value as text.
    "CREATE MACRO json_str(x, path) AS "
    "CASE WHEN json_valid(x) AND json_type(x, path) = 'VARCHAR' THEN json_extract_string(x, path) END",
    # json_as_text(x, 'a'): a JSON string decoded, any other value as its JSON text, JSON null
    # as NULL; NULL when x is not JSON. (DataFusion returns an object's original text, DuckDB
    # its compact re-serialisation: the same JSON, other whitespace.)
    "CREATE MACRO json_text(x, path) AS CASE WHEN json_valid(x) THEN json_extract_string(x, path) END",
    # json_get_bool(x, 'a'): the value if it is a JSON boolean, else NULL.
    "CREATE MACRO json_bool(x, path) AS "
    "CASE WHEN json_valid(x) AND json_type(x, path) = 'BOOLEAN' THEN CAST(json_extract(x, path) AS BOOLEAN) END",
    # string_to_array(s, ','): DataFusion (like PostgreSQL) splits '' into [], DuckDB's
    # string_split into [''] (which would match an empty operator or bucket name).
    "CREATE MACRO split_list(s, sep) AS CASE WHEN s = '' THEN []::VARCHAR[] ELSE string_split(s, sep) END",
]

HEADER_KEYS = ("name", "title", "description", "requirements", "kind", "param")


def header_params(text):
    """The `-- param: name = default | description` lines of a report's header, as
    src/report.rs reads them: `(name, default)` in order."""
    params = []
    for line in text.splitlines():
        m = re.match(r"--\s*([a-z]+)\s*:(.*)", line)
        if not m or m.group(1) not in HEADER_KEYS:
            break
        if m.group(1) == "param":
            name, rest = m.group(2).strip().split("=", 1)
            default = rest.split(" | ", 1)[0]
            params.append((name.strip(), default.strip()))
    return params


def render(sql, params, values):
    """`{{name}}` replaced as src/report.rs does: a given value as a quoted string, else the
    default as SQL text; repeated, since a default may name another parameter."""
    for _ in range(4):
        before = sql
        for name, default in params:
            value = "'" + values[name].replace("'", "''") + "'" if name in values else default
            sql = sql.replace("{{" + name + "}}", value)
        if sql == before:
            break
    left = re.findall(r"\{\{\w+\}\}", sql)
    if left:
        raise SystemExit(f"unknown parameters left in the query: {', '.join(sorted(set(left)))}")
    return sql


def reports():
    """`(name, params, DuckDB SQL with placeholders)` of every report, in name order; stops if
    a report has no translation or a translation no report."""
    names = sorted(p.stem for p in REPORTS.glob("*.sql"))
    translated = sorted(p.stem for p in TRANSLATIONS.glob("*.sql"))
    if names != translated:
        missing = sorted(set(names) - set(translated))
        extra = sorted(set(translated) - set(names))
        raise SystemExit(f"reports without a DuckDB translation: {missing}; translations without a report: {extra}")
    return [
        (name, header_params((REPORTS / f"{name}.sql").read_text()), (TRANSLATIONS / f"{name}.sql").read_text())
        for name in names
    ]


def main(argv):
    args, out, only, extra = [], None, None, {}
    it = iter(argv)
    for a in it:
        if a == "--out":
            out = next(it)
        elif a == "--only":
            only = set(next(it).split(","))
        elif a == "--param":
            name, value = next(it).split("=", 1)
            extra[name] = value
        else:
            args.append(a)
    if len(args) != 3:
        raise SystemExit(__doc__)
    archive, start, end = args
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="duckdb-reports-")
        out = tmp.name
    pathlib.Path(out).mkdir(parents=True, exist_ok=True)

    todo = [r for r in reports() if only is None or r[0] in only]
    rendered = []
    for name, params, sql in todo:
        values = {"from": start, "to": end}
        values.update((k, v) for k, v in extra.items() if any(k == p for p, _ in params))
        rendered.append((name, render(sql.strip().rstrip(";"), params, values)))

    con = duckdb.connect()
    # cts's timestamps are UTC (Parquet TIMESTAMP(isAdjustedToUTC), TIMESTAMPTZ in DuckDB):
    # compare them with CAST('2024-06-01' AS TIMESTAMP), truncate and format them in UTC, as
    # DataFusion does, whatever the machine's time zone.
    con.execute("SET TimeZone = 'UTC'")
    for macro in MACROS:
        con.execute(macro)
    con.execute(
        "CREATE VIEW traces AS SELECT * FROM read_parquet("
        f"'{archive}/traces/*/*.parquet', hive_partitioning = true, hive_types = {{'day': VARCHAR}})"
    )
    # sql/trace_files.sql: the manifest's entries, the newest of each source file, with the
    # delivery time from its name.
    con.execute(
        "CREATE VIEW trace_files AS SELECT source, CASE WHEN d <> '' THEN "
        "CAST(d || ' ' || h || ':' || mi || ':' || s || '+00' AS TIMESTAMPTZ) END AS delivered, "
        "size, etag, outcome, traces, duplicates, rejected, error, integrity, integrity_detail, run "
        "FROM (SELECT *, "
        + ", ".join(
            f"regexp_extract(source, '_CloudTrace_[^/]*_(\\d{{4}}-\\d{{2}}-\\d{{2}})T(\\d{{2}})-(\\d{{2}})-(\\d{{2}})Z_[^/]*$', {i}) AS {n}"
            for i, n in enumerate(["d", "h", "mi", "s"], start=1)
        )
        + ", row_number() OVER (PARTITION BY source ORDER BY run DESC) AS newest "
        f"FROM read_json('{archive}/_cts/manifest/*.ndjson', format = 'newline_delimited', columns = {{"
        "'source': 'VARCHAR', 'size': 'UBIGINT', 'etag': 'VARCHAR', 'outcome': 'VARCHAR', "
        "'traces': 'UBIGINT', 'duplicates': 'UBIGINT', 'rejected': 'UBIGINT', 'error': 'VARCHAR', "
        "'run': 'VARCHAR', 'integrity': 'VARCHAR', 'integrity_detail': 'VARCHAR'})) "
        "WHERE newest = 1"
    )
    quoted = lambda s: "'" + s.replace("'", "''") + "'"
    range_sql = f"time >= CAST({quoted(start)} AS TIMESTAMP) AND time < CAST({quoted(end)} AS TIMESTAMP)"

    lines, total_rows = [], 0
    started = time.perf_counter()
    # the pack's chart: traces per day by rating
    con.execute(
        "SELECT strftime(time, '%Y-%m-%d') AS day, lower(COALESCE(trace_rating, 'unknown')) AS rating, "
        f"count(*) AS n FROM traces WHERE {range_sql} GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    for name, sql in rendered:
        t0 = time.perf_counter()
        csv = pathlib.Path(out) / f"{name}.csv"
        try:
            rows = con.execute(f"COPY ({sql}) TO {quoted(str(csv))} (HEADER)").fetchone()[0]
        except duckdb.Error as e:
            raise SystemExit(f"report {name} failed in DuckDB: {e}")
        ms = (time.perf_counter() - t0) * 1000
        total_rows += rows
        lines.append(f"{name} {rows} {ms:.1f}")
    total_ms = (time.perf_counter() - started) * 1000
    print("\n".join(lines))
    print(f"total {total_rows} {total_ms:.1f}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main(sys.argv[1:])
