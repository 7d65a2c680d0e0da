#!/usr/bin/env bash
# `cts export` of one day of TRACES (default 1,400,000, loaded as the loader writes them: many
# files a day), one Parquet file sorted by time, against DuckDB writing the same traces sorted by
# time from the same files (COPY ... ORDER BY time TO), in the same run: wall time and peak RSS of
# each whole process, rows and file size.
# One command: benches/export.sh [TRACES]
set -euo pipefail
cd "$(dirname "$0")/.."
traces=${1:-1400000}
work=${CTS_BENCH_DIR:-benches/data}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
if [ -n "${CTS_BIN:-}" ]; then
  cts=$CTS_BIN
else
  cargo build --release --quiet
  cts="$CARGO_TARGET_DIR/release/cts"
fi
python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check duckdb

data="$work/export-data-$traces"
if [ ! -f "$data/.complete" ]; then
  rm -rf "$data" "$work/export-bucket"
  "$cts" gen "$work/export-bucket" --traces "$traces" --days 1 --end 2024-06-30 --seed 5 --no-digests --duplicates 0 >/dev/null
  "$cts" --data-dir "$data" load "$work/export-bucket" >/dev/null
  rm -rf "$work/export-bucket"
  touch "$data/.complete"
fi
archive="$data/archive"
day=$(ls "$archive/traces" | sort | tail -1)
day=${day#day=}
files=$(find "$archive/traces" -name '*.parquet' | wc -l)
cat "$archive"/traces/*/*.parquet >/dev/null  # both sides read from the page cache

rm -rf "$data/out-cts" "$data/out-duckdb.parquet"
/usr/bin/time -o "$data/cts.time" -f '%e %M' "$cts" --data-dir "$data" export --quiet \
  --from "$day" --to "$(date -u -d "$day + 1 day" +%Y-%m-%d)" --out "$data/out-cts" >/dev/null
/usr/bin/time -o "$data/duckdb.time" -f '%e %M' python3 -c '
import sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f"COPY (SELECT * FROM read_parquet(\"{sys.argv[1]}/traces/*/*.parquet\") ORDER BY time) "
            f"TO \"{sys.argv[2]}\" (FORMAT parquet, COMPRESSION zstd)")
' "$archive" "$data/out-duckdb.parquet"

python3 - "$traces" "$files" "$data" <<'PY'
import glob, os, sys
import duckdb
traces, files, data = sys.argv[1:]
def rows_and_size(paths):
    con = duckdb.connect()
    rows = con.execute(f"SELECT count(*) FROM read_parquet({paths!r})").fetchone()[0]
    return rows, sum(os.path.getsize(p) for p in paths)
cts_files = sorted(glob.glob(f"{data}/out-cts/**/*.parquet", recursive=True))
sides = [("cts export", f"{data}/cts.time", cts_files),
         ("DuckDB COPY ... ORDER BY time", f"{data}/duckdb.time", [f"{data}/out-duckdb.parquet"])]
print(f"export of one day: {int(traces):,} traces in {files} archive files -> one Parquet file sorted by time")
print(f"  {'':32}{'wall s':>8}{'peak RSS MB':>13}{'rows':>11}{'MB':>7}")
measured = []
for name, timing, paths in sides:
    wall, rss = open(timing).read().split()[-2:]
    rows, size = rows_and_size(paths)
    measured.append((float(wall), int(rss)))
    print(f"  {name:32}{float(wall):>8.2f}{int(rss) / 1024:>13.0f}{rows:>11,}{size / 1e6:>7.1f}")
(cw, cr), (dw, dr) = measured
print(f"  cts / DuckDB: time {cw / dw:.2f}x, peak RSS {cr / dr:.2f}x")
PY
