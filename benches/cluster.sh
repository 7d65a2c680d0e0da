#!/usr/bin/env bash
# A Ballista cluster against one process, on this machine (release build):
# 1. the report pack over ARCHIVED traces (default 10,000,000 over 90 days, compacted: one file a
#    day), on 1 scheduler and 2 executors (`cts cluster`, each executor --concurrency 1: one core
#    each) against `cts report pack` in one process over the same archive; both as whole
#    processes, with every report alone on each side for where the time goes, and the rows of
#    every report compared;
# 2. planning over many files: `SELECT count(*) FROM traces` over archives of 1,000 and 10,000
#    small files, the scheduler's planning time (its log) beside the whole query on each side.
# The pack's range is the whole archive (DAYS=30: its last 30 days only); every side runs with
# --memory-limit MEMORY_LIMIT (default 4GB, cts's default; each executor has it).
# One command: benches/cluster.sh [ARCHIVED]
set -euo pipefail
cd "$(dirname "$0")/.."
archived=${1:-10000000}
work=${CTS_BENCH_DIR:-benches/data}
memory=${MEMORY_LIMIT:-4GB}
days=${DAYS:-}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
if [ -n "${CTS_BIN:-}" ]; then
  cts=$CTS_BIN
else
  cargo build --release --quiet
  cts="$CARGO_TARGET_DIR/release/cts"
fi

data="$work/cluster-data"
archive="$data/archive"
if [ ! -f "$data/.bench-$archived" ]; then
  rm -rf "$data" "$work/cluster-bucket"
  end=$(date -u -d '7 days ago' +%Y-%m-%d)
  "$cts" gen "$work/cluster-bucket" --traces "$archived" --days 90 --end "$end" --seed 3 --no-digests --duplicates 0 >/dev/null
  "$cts" --data-dir "$data" load "$work/cluster-bucket" >/dev/null
  rm -rf "$work/cluster-bucket"
  "$cts" --data-dir "$data" compact --grace-secs 0 >/dev/null
  "$cts" --data-dir "$data" compact --grace-secs 0 >/dev/null
  touch "$data/.bench-$archived"
fi
read -r from to files < <("$cts" --data-dir "$data" sql "SELECT min(day), max(day), count(DISTINCT day) FROM archive_traces" --format csv | tail -1 | tr ',' ' ')
to=$(date -u -d "$to + 1 day" +%Y-%m-%d)
[ -n "$days" ] && from=$(date -u -d "$to - $days days" +%Y-%m-%d)
n=$("$cts" --data-dir "$data" sql "SELECT count(*) FROM archive_traces" --format csv | tail -1)
in_range=$("$cts" --data-dir "$data" sql "SELECT count(*) FROM archive_traces WHERE time >= '$from' AND time < '$to'" --format csv | tail -1)
parquet_files=$(find "$archive/traces" -name '*.parquet' | wc -l)

# timed FILE CMD...: run CMD; write "wall_seconds peak_rss_kb" to FILE
timed() {
  local out=$1
  shift
  /usr/bin/time -o "$out" -f '%e %M' "$@"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

logs="$data/logs"
rm -rf "$logs" "$data/work-"*
mkdir -p "$logs"
pids=()
stop_cluster() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_cluster EXIT
# start_cluster ARCHIVE: a scheduler and two executors over ARCHIVE; sets $url
start_cluster() {
  local port
  port=$(free_port)
  CTS_CLUSTER_LOG=info "$cts" --data-dir "$data/client" --archive "$1" cluster scheduler --listen "127.0.0.1:$port" 2>"$logs/scheduler.log" &
  pids+=($!)
  for i in 1 2; do
    local flight grpc
    flight=$(free_port)
    grpc=$(free_port)
    "$cts" --data-dir "$data" --archive "$1" --memory-limit "$memory" cluster executor --scheduler "127.0.0.1:$port" \
      --port "$flight" --grpc-port "$grpc" --concurrency 1 --work-dir "$data/work-$i" 2>"$logs/executor-$i.log" &
    pids+=($!)
  done
  url="df://127.0.0.1:$port"
  for _ in $(seq 100); do
    "$cts" --data-dir "$data/client" --archive "$1" sql "SELECT 1" --cluster "$url" >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "the cluster did not start" >&2
  exit 1
}
# peak RSS (kB) of the cluster's processes so far
cluster_rss() {
  for pid in "${pids[@]}"; do awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; done | paste -sd' '
}

# --- 1. the report pack ---------------------------------------------------------------------------
cat "$archive"/traces/*/*.parquet >/dev/null  # both sides read from the page cache
local_dir="$data/local"  # a data directory with no hot store: both sides see the archive only
rm -rf "$local_dir" "$data/client" "$data/pack-local" "$data/pack-cluster"
timed "$data/pack-local.time" "$cts" --data-dir "$local_dir" --archive "$archive" --memory-limit "$memory" \
  report pack --from "$from" --to "$to" --out "$data/pack-local" >"$data/pack-local.log" || true
start_cluster "$archive"
timed "$data/pack-cluster.time" "$cts" --data-dir "$data/client" --archive "$archive" --memory-limit "$memory" \
  report pack --from "$from" --to "$to" --out "$data/pack-cluster" --cluster "$url" >"$data/pack-cluster.log" 2>/dev/null || true
rss_cluster=$(cluster_rss)

per_report="$data/per-report.txt"
: >"$per_report"
for sql in sql/reports/*.sql; do
  name=$(basename "$sql" .sql)
  s=$(date +%s.%N)
  "$cts" --data-dir "$local_dir" --archive "$archive" --memory-limit "$memory" report run "$name" --from "$from" --to "$to" --format csv >/dev/null
  m=$(date +%s.%N)
  "$cts" --data-dir "$data/client" --archive "$archive" --memory-limit "$memory" report run "$name" --from "$from" --to "$to" --format csv --cluster "$url" >/dev/null 2>&1 || true
  e=$(date +%s.%N)
  same=yes
  cmp -s <(tail -n +2 "$data/pack-local/$name.csv" | sort) <(tail -n +2 "$data/pack-cluster/$name.csv" | sort) || same=NO
  echo "$name $(echo "($m - $s) * 1000" | bc -l) $(echo "($e - $m) * 1000" | bc -l) $same" >>"$per_report"
done
stop_cluster

# --- 2. planning over many files ------------------------------------------------------------------
# A small archive file copied under many names across 100 day folders: what matters here is how
# many files the scheduler lists and plans, not what they hold.
small="$data/small-file.parquet"
if [ ! -f "$small" ]; then
  "$cts" gen "$data/small-bucket" --traces 200 --days 1 --end 2024-01-01 --seed 9 --no-digests >/dev/null
  "$cts" --data-dir "$data/small" load "$data/small-bucket" >/dev/null
  cp "$(find "$data/small/archive/traces" -name '*.parquet' | head -1)" "$small"
  rm -rf "$data/small" "$data/small-bucket"
fi
planning="$data/planning.txt"
: >"$planning"
for count in 1000 10000; do
  many="$data/many-$count"
  if [ ! -f "$many/.complete" ]; then
    rm -rf "$many"
    per_day=$((count / 100))
    for d in $(seq 0 99); do
      day=$(date -u -d "2024-01-01 + $d days" +%Y-%m-%d)
      mkdir -p "$many/traces/day=$day"
      for i in $(seq 1 "$per_day"); do cp "$small" "$many/traces/day=$day/part-bench-$i.parquet"; done
    done
    touch "$many/.complete"
  fi
  q="SELECT count(*) FROM traces"
  s=$(date +%s.%N)
  local_count=$("$cts" --data-dir "$data/many-local" --archive "$many" sql "$q" --format csv | tail -1)
  m=$(date +%s.%N)
  start_cluster "$many"
  before=$(grep -c 'planning took' "$logs/scheduler.log" || true)
  s2=$(date +%s.%N)
  cluster_count=$("$cts" --data-dir "$data/client" --archive "$many" sql "$q" --format csv --cluster "$url" 2>/dev/null | tail -1)
  e=$(date +%s.%N)
  plan_ms=$(grep 'planning took' "$logs/scheduler.log" | tail -n +"$((before + 1))" | tail -1 | grep -o 'took [0-9.]*[a-zµ]*' | cut -d' ' -f2)
  stop_cluster
  echo "$count $(echo "($m - $s) * 1000" | bc -l) $(echo "($e - $s2) * 1000" | bc -l) $plan_ms $local_count $cluster_count" >>"$planning"
done

python3 - "$n" "$in_range" "$from" "$to" "$files" "$parquet_files" "$data/pack-local.time" "$data/pack-cluster.time" \
  "$data/pack-local.log" "$data/pack-cluster.log" "$per_report" "$planning" "$rss_cluster" <<'PY'
import sys
n, in_range, start, end, days, files, t_local, t_cluster, log_local, log_cluster, per_report, planning, rss = sys.argv[1:]
wall_l, rss_l = open(t_local).read().split()[-2:]
wall_c, rss_c = open(t_cluster).read().split()[-2:]
rss_procs = [int(x) for x in rss.split()]
print(f"report pack from {start} to {end}: {int(in_range):,} of {int(n):,} archived traces ({days} days, "
      f"{files} Parquet files); cluster: 1 scheduler + 2 executors (--concurrency 1 each) on this machine")
print(f"  {'':28}{'wall s':>9}{'peak RSS MB':>13}")
print(f"  {'one process':28}{float(wall_l):>9.2f}{int(rss_l) / 1024:>13.0f}")
procs = ", ".join(f"{r / 1024:.0f}" for r in rss_procs)
print(f"  {'cluster (client)':28}{float(wall_c):>9.2f}{int(rss_c) / 1024:>13.0f}   scheduler, executors: {procs}")
print(f"  cluster / one process: {float(wall_c) / float(wall_l):.2f}x")
print("  " + open(log_local).readline().strip())
print("  " + open(log_cluster).readline().strip())
rows = [l.split() for l in open(per_report) if l.strip()]
print(f"\n  each report alone (whole process, ms){'':4}{'one process':>12}{'cluster':>10}{'ratio':>7}  rows equal")
total_l = total_c = 0.0
for name, l, c, same in sorted(rows, key=lambda r: -float(r[2])):
    total_l += float(l); total_c += float(c)
    print(f"  {name:42}{float(l):>12.0f}{float(c):>10.0f}{float(c) / float(l):>7.2f}  {same}")
print(f"  {'sum':42}{total_l:>12.0f}{total_c:>10.0f}{total_c / total_l:>7.2f}")
print("\n  SELECT count(*) FROM traces over many small files (whole process, ms)")
print(f"  {'files':>8}{'one process':>13}{'cluster':>10}{'scheduler planning':>20}  counts")
for line in open(planning):
    count, l, c, plan, lc, cc = line.split()
    print(f"  {int(count):>8,}{float(l):>13.0f}{float(c):>10.0f}{plan:>20}  {lc} / {cc}")
PY
