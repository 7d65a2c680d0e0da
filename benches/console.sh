#!/usr/bin/env bash
# The console's search (`cts ui`, release build) over ARCHIVED traces in the archive (default
# 10,000,000 over 90 days ending a week ago) and HOT traces in the hot store (default 1,000,000
# over the last 6 days): the time of each page as a browser asks for it (curl on loopback, median
# of RUNS, default 20, after a warm-up): the default page (the last 7 days, newest 50), the same
# with an operator filter, the next page, the last 30 days (hot and archive), one trace by its
# ID, and the charts of the default search. Beside it, in the same run, DuckDB answering the
# newest-50 query of each search over the same traces as Parquet (the archive's files, and the
# hot traces exported once with `cts export`), in-process.
# One command: benches/console.sh [ARCHIVED] [HOT]
set -euo pipefail
cd "$(dirname "$0")/.."
archived=${1:-10000000}
hot=${2:-1000000}
runs=${RUNS:-20}
work=${CTS_BENCH_DIR:-benches/data}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
cargo build --release --quiet
cts="$CARGO_TARGET_DIR/release/cts"
python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check duckdb

data="$work/console-data"
if [ ! -f "$data/.bench-$archived-$hot" ]; then
  rm -rf "$data" "$work/console-archive-bucket" "$work/console-hot-bucket" "$work/console-hot-parquet"
  end=$(date -u -d '7 days ago' +%Y-%m-%d)
  "$cts" gen "$work/console-archive-bucket" --traces "$archived" --days 90 --end "$end" --seed 3 --no-digests --duplicates 0 >/dev/null
  "$cts" gen "$work/console-hot-bucket" --traces "$hot" --days 6 --seed 4 --no-digests --duplicates 0 >/dev/null
  "$cts" --data-dir "$data" load "$work/console-archive-bucket" >/dev/null
  "$cts" --data-dir "$data" load "$work/console-hot-bucket" >/dev/null
  rm -rf "$work/console-archive-bucket" "$work/console-hot-bucket"
  touch "$data/.bench-$archived-$hot"
fi
# The hot traces as Parquet, for DuckDB (which cannot read the hot store's log).
rm -rf "$work/console-hot-parquet"
"$cts" --data-dir "$data" export --out "$work/console-hot-parquet" --query "SELECT * FROM hot_traces" --partition-by none >/dev/null
read -r n_archive n_hot < <("$cts" --data-dir "$data" sql "SELECT (SELECT count(*) FROM archive_traces) AS archived, (SELECT count(*) FROM hot_traces) AS hot" --format csv | tail -1 | tr ',' ' ')
operator=$("$cts" --data-dir "$data" sql "SELECT user_name FROM traces WHERE time >= now() - INTERVAL '7 days' AND user_name IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET 5" --format csv | tail -1)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$cts" --data-dir "$data" ui --listen "127.0.0.1:$port" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port/console"
for _ in $(seq 100); do curl -sf "$base/style.css" >/dev/null && break; sleep 0.1; done

# Median ms of RUNS requests of a URL (after one warm-up), and its status.
measure() {
  curl -s -o /dev/null "$1"
  for _ in $(seq "$runs"); do curl -s -o /dev/null -w '%{time_total}\n' "$1"; done |
    sort -n | awk '{t[NR]=$1} END {printf "%.1f", t[int((NR+1)/2)]*1000}'
}
first_id=$(curl -s "$base/traces" | grep -o 'data-trace-id="[^"]*"' | tail -1 | cut -d'"' -f2)
sample_href=$(curl -s "$base/traces?period=30d" | grep -o 'href="/console/traces/[^"]*"' | sed -n 7p | cut -d'"' -f2)
sample_id=${sample_href#/console/traces/}
sample_id=${sample_id%%\?*}
op_q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$operator")

t_default=$(measure "$base/traces")
t_operator=$(measure "$base/traces?user=$op_q")
t_next=$(measure "$base/traces?after=$first_id")
t_month=$(measure "$base/traces?period=30d")
t_trace=$(measure "http://127.0.0.1:$port$sample_href")
t_trace_any=$(measure "$base/traces/$sample_id")
t_charts=$(measure "$base/charts")
peak=$(awk '/VmHWM/ {print $2}' /proc/$server/status)

theirs=$(python3 - "$data/archive" "$work/console-hot-parquet" "$runs" "$operator" <<'PY'
import statistics, sys, time
import duckdb
archive, hot, runs, operator = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
con = duckdb.connect()
con.execute(
    "CREATE VIEW traces AS SELECT * EXCLUDE (day) FROM read_parquet("
    f"'{archive}/traces/*/*.parquet', hive_partitioning = true, hive_types = {{'day': VARCHAR}}) "
    f"UNION ALL BY NAME SELECT * FROM read_parquet('{hot}/*.parquet')"
)
def newest(where, params):
    sql = f"SELECT * FROM traces WHERE {where} ORDER BY time DESC, trace_id DESC LIMIT 51"
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        con.execute(sql, params).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(sorted(times[1:]))
week = "time >= now() - INTERVAL 7 DAY"
print(f"{newest(week, []):.1f} {newest(week + ' AND user_name = ?', [operator]):.1f} "
      f"{newest('time >= now() - INTERVAL 30 DAY', []):.1f} "
      f"{duckdb.__version__}")
PY
)
read -r d_default d_operator d_month d_version <<<"$theirs"

printf '\n%s archived + %s hot traces; cts ui (release) over loopback with curl, DuckDB %s in-process; median of %s runs, ms\n\n' \
  "$n_archive" "$n_hot" "$d_version" "$runs"
printf '| page | cts console | DuckDB (the newest-50 query alone) | cts / DuckDB |\n|---|---|---|---|\n'
ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
printf '| default: last 7 days, newest 50 | %s | %s | %s |\n' "$t_default" "$d_default" "$(ratio "$t_default" "$d_default")"
printf '| operator %s, last 7 days | %s | %s | %s |\n' "$operator" "$t_operator" "$d_operator" "$(ratio "$t_operator" "$d_operator")"
printf '| last 30 days (hot and archive) | %s | %s | %s |\n' "$t_month" "$d_month" "$(ratio "$t_month" "$d_month")"
printf '| next page (after a marker) | %s | | |\n' "$t_next"
printf '| one trace, as the list links it (its ID and time) | %s | | |\n' "$t_trace"
printf '| one trace by its ID alone (any time) | %s | | |\n' "$t_trace_any"
printf '| charts of the default search | %s | | |\n' "$t_charts"
printf '\ncts ui peak RSS: %d MB\n' "$((peak / 1024))"
