#!/usr/bin/env bash
# The report pack (every report in sql/reports/), cts against DuckDB over the same Parquet files,
# in the same run: `cts report pack` once, and the DuckDB translations (duckdb_reports.py), each
# timed as a whole process with its peak RSS; rows per report must be equal on both sides.
# One command: benches/reports.sh [TRACES]
# CTS_BIN=path/to/cts uses that binary instead of building the release one (e.g. a debug build,
# to check the script); CTS_BENCH_DIR moves the generated data (default benches/data).
set -euo pipefail
cd "$(dirname "$0")/.."
traces=${1:-1000000}
work=${CTS_BENCH_DIR:-benches/data}
from=2024-06-01
to=2024-07-01
python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check duckdb
if [ -n "${CTS_BIN:-}" ]; then
  cts=$CTS_BIN
else
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
  cargo build --release --quiet
  cts="$CARGO_TARGET_DIR/release/cts"
fi

# the same bucket and archive as benches/queries.sh
bucket="$work/bucket-$traces"
data="$work/queries-$traces"
if [ ! -f "$bucket/.complete" ]; then
  rm -rf "$bucket"
  "$cts" gen "$bucket" --traces "$traces" --days 7 --seed 42 --end 2024-06-30
  touch "$bucket/.complete"
fi
if [ ! -f "$data/.complete" ]; then
  rm -rf "$data"
  "$cts" --data-dir "$data" load "$bucket" --quiet >/dev/null
  touch "$data/.complete"
fi
if [ ! -f "$data/.compacted" ]; then  # as queries.sh: one file per day
  "$cts" --data-dir "$data" compact --grace-secs 0 >/dev/null
  "$cts" --data-dir "$data" compact --grace-secs 0 >/dev/null
  touch "$data/.compacted"
fi
archive="$data/archive"

# timed FILE CMD...: run CMD; write "wall_seconds peak_rss_kb" to FILE
timed() {
  local out=$1
  shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -o "$out" -f '%e %M' "$@"
  else
    python3 -c '
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - started
open(sys.argv[1], "w").write(f"{wall:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.exit(code)' "$out" "$@"
  fi
}

# both sides read the archive from the page cache
cat "$archive"/traces/*/*.parquet >/dev/null

out_cts="$data/pack-cts"
out_duckdb="$data/pack-duckdb"
rm -rf "$out_cts" "$out_duckdb"
timed "$data/pack-cts.time" "$cts" --data-dir "$data" report pack --from "$from" --to "$to" --out "$out_cts" >"$data/pack-cts.log"
timed "$data/pack-duckdb.time" python3 benches/duckdb_reports.py "$archive" "$from" "$to" --out "$out_duckdb" >"$data/pack-duckdb.log"

# each report alone in cts, for where the time goes (a whole process each: startup and planning too)
per_report="$data/report-run.txt"
: >"$per_report"
for sql in sql/reports/*.sql; do
  name=$(basename "$sql" .sql)
  started=$(date +%s.%N)
  "$cts" --data-dir "$data" report run "$name" --from "$from" --to "$to" --format csv >/dev/null
  echo "$name $(echo "($(date +%s.%N) - $started) * 1000" | bc -l)" >>"$per_report"
done

python3 - "$traces" "$out_cts" "$data/pack-cts.time" "$data/pack-cts.log" \
  "$data/pack-duckdb.time" "$data/pack-duckdb.log" "$per_report" <<'PY'
import csv, pathlib, re, sys
import duckdb

traces, out_cts, cts_time, cts_log, duck_time, duck_log, per_report = sys.argv[1:]
names = sorted(p.stem for p in pathlib.Path("sql/reports").glob("*.sql"))
cts_rows = {}
for name in names:
    path = pathlib.Path(out_cts) / f"{name}.csv"
    cts_rows[name] = sum(1 for _ in csv.reader(open(path, newline=""))) - 1 if path.exists() else None
duck = {}
for line in open(duck_log):
    name, rows, ms = line.split()
    duck[name] = (int(rows), float(ms))
cts_ms = dict((l.split()[0], float(l.split()[1])) for l in open(per_report))
(cts_s, cts_kb), (duck_s, duck_kb) = ([float(x) for x in open(f).read().split()[-2:]] for f in (cts_time, duck_time))
m = re.search(r" in ([0-9.]+) s:", open(cts_log).read())
cts_inner = float(m.group(1)) if m else None
duck_inner = duck["total"][1] / 1000

print(f"\n{int(traces):,} traces; report pack from 2024-06-01 to 2024-07-01; DuckDB {duckdb.__version__}\n")
print("| report | rows (cts) | rows (DuckDB) | cts report run (own process) | DuckDB (in-process) |")
print("|---|---|---|---|---|")
bad = []
for name in names:
    c, (d, dms) = cts_rows[name], duck.get(name, (None, float("nan")))
    if c is None or c != d:
        bad.append(f"{name}: cts {c}, DuckDB {d}")
    print(f"| {name} | {c} | {d} | {cts_ms.get(name, float('nan')):.0f} ms | {dms:.0f} ms |")
ratio = lambda a, b: f"{a / b:.2f}x" if b else "n/a"
print(f"| **total** | {sum(v or 0 for v in cts_rows.values())} | {duck['total'][0]} | "
      f"{sum(cts_ms.values()):.0f} ms | {sum(duck[n][1] for n in names if n in duck):.0f} ms |")
print("\n| pack | cts report pack | DuckDB (duckdb_reports.py) | DuckDB / cts |\n|---|---|---|---|")
print(f"| wall time, whole process | {cts_s:.2f} s | {duck_s:.2f} s | {ratio(duck_s, cts_s)} |")
if cts_inner is not None:
    print(f"| time of the pack itself (after setup) | {cts_inner:.2f} s | {duck_inner:.2f} s | {ratio(duck_inner, cts_inner)} |")
print(f"| peak RSS (DuckDB: with Python) | {cts_kb / 1024:.0f} MB | {duck_kb / 1024:.0f} MB | {ratio(duck_kb, cts_kb)} |")
if bad:
    print("\nrow counts differ:\n  " + "\n  ".join(bad), file=sys.stderr)
    sys.exit(1)
PY
