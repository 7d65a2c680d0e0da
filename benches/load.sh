#!/usr/bin/env bash
# Load benchmark: `cts load` against DuckDB on the same generated bucket, in the same run, at all
# cores and at one core; prints both and their ratio. One command: benches/load.sh [TRACES]
set -euo pipefail
cd "$(dirname "$0")/.."
traces=${1:-1000000}
work=${CTS_BENCH_DIR:-benches/data}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
cores=$(nproc)

for tool in /usr/bin/time bc; do command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq time bc; }; done
python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check duckdb
cargo build --release --quiet
cts="$CARGO_TARGET_DIR/release/cts"

bucket="$work/bucket-$traces"
if [ ! -f "$bucket/.complete" ]; then
  rm -rf "$bucket"
  "$cts" gen "$bucket" --traces "$traces" --days 7 --seed 42 --end 2024-06-30
  touch "$bucket/.complete"
fi
gz=$(find -L "$bucket" -name '*_CloudTrace_*.json.gz' -printf '%s\n' | awk '{s+=$1} END {print s}')

measure() { # label command...: prints "seconds peak_rss_mb"
  local log; log=$(mktemp)
  /usr/bin/time -f '%e %M' -o "$log" "$@" >/dev/null
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$log"; rm -f "$log"
}

printf '\n%s traces, %.1f MB of .json.gz, DuckDB %s\n\n' "$traces" "$(echo "$gz/1000000" | bc -l)" "$(python3 -c 'import duckdb; print(duckdb.__version__)')"
printf '| cores | cts load | DuckDB | cts faster by | cts peak RSS | DuckDB peak RSS | cts archive | DuckDB Parquet |\n|---|---|---|---|---|---|---|---|\n'
for n in "$cores" 1; do
  cpus=$( [ "$n" = 1 ] && echo 0 || echo "0-$((cores - 1))" )
  rm -rf "$work/cts-data" "$work/duck.parquet"
  read -r cs cm < <(measure taskset -c "$cpus" "$cts" --data-dir "$work/cts-data" load "$bucket" --quiet --threads "$n")
  read -r ds dm < <(measure taskset -c "$cpus" python3 benches/duckdb_load.py "$bucket" "$work/duck.parquet" "$n")
  ca=$(du -sb "$work/cts-data/archive/traces" | cut -f1)
  da=$(stat -c %s "$work/duck.parquet")
  printf '| %s | %s s | %s s | %.1fx | %s MB | %s MB | %.1f MB (%.2fx .json.gz) | %.1f MB |\n' \
    "$n" "$cs" "$ds" "$(echo "$ds/$cs" | bc -l)" "$cm" "$dm" "$(echo "$ca/1000000" | bc -l)" "$(echo "$ca/$gz" | bc -l)" "$(echo "$da/1000000" | bc -l)"
done
