#!/usr/bin/env bash
# Peak memory of loading a large bucket: generates TRACES traces over DAYS days with `cts gen`
# (seed 42; 70,000,000 traces are about 10.5 GB of .json.gz), loads them with `cts load`, and
# prints the bucket's size, the time and the peak RSS. cts only: DuckDB does not finish the
# 1,000,000-trace bucket of load.sh with its own reader (see benches/README.md).
# One command: benches/large_load.sh [TRACES] [DAYS]. Needs about 1.6x the bucket in free disk.
set -euo pipefail
cd "$(dirname "$0")/.."
traces=${1:-70000000}
days=${2:-30}
work=${CTS_BENCH_DIR:-benches/data}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
cargo build --release --quiet
cts="$CARGO_TARGET_DIR/release/cts"

bucket="$work/bucket-$traces-${days}d"
data="$work/large-$traces-${days}d"
if [ ! -f "$bucket/.complete" ]; then
  rm -rf "$bucket"
  /usr/bin/time -f 'generated in %e s' "$cts" gen "$bucket" --traces "$traces" --days "$days" --seed 42 --end 2024-06-30
  touch "$bucket/.complete"
fi
rm -rf "$data"
/usr/bin/time -o "$work/large-load.time" -f '%e %M' "$cts" --data-dir "$data" load "$bucket" --quiet
read -r secs kb < "$work/large-load.time"
printf '| traces | days | .json.gz | files | load | traces/s | peak RSS | archive |\n|---|---|---|---|---|---|---|---|\n'
printf '| %s | %s | %s | %s | %s s | %.0f | %d MB | %s |\n' "$traces" "$days" \
  "$(du -sh "$bucket" | cut -f1)" "$(find "$bucket" -type f -name '*.json*' | wc -l)" "$secs" \
  "$(echo "$traces / $secs" | bc -l)" "$((kb / 1024))" "$(du -sh "$data/archive" | cut -f1)"
