#!/usr/bin/env bash
# Five typical questions over the archive of a generated bucket, cts against DuckDB over the same
# Parquet files, in the same run; each timed in-process (median of 5 after a warm-up), with the
# ratio. One command: benches/queries.sh [TRACES]
set -euo pipefail
cd "$(dirname "$0")/.."
traces=${1:-1000000}
work=${CTS_BENCH_DIR:-benches/data}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
python3 -c 'import duckdb, pytz' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check duckdb pytz  # pytz: DuckDB's Python rows with time zones
cargo build --release --quiet
cargo bench --bench queries --no-run --quiet 2>/dev/null
cts="$CARGO_TARGET_DIR/release/cts"

bucket="$work/bucket-$traces"
data="$work/queries-$traces"
if [ ! -f "$bucket/.complete" ]; then
  rm -rf "$bucket"
  "$cts" gen "$bucket" --traces "$traces" --days 7 --seed 42 --end 2024-06-30
  touch "$bucket/.complete"
fi
if [ ! -f "$data/.complete" ]; then
  rm -rf "$data"
  /usr/bin/time -o "$work/load-$traces.time" -f '%e %M' "$cts" --data-dir "$data" load "$bucket" --quiet >/dev/null
  touch "$data/.complete"
fi
if [ -f "$work/load-$traces.time" ]; then
  read -r secs kb < "$work/load-$traces.time"
  printf 'load of the bucket (%s of .json.gz, %s files): %s s, %d MB peak RSS\n' \
    "$(du -sh "$bucket" | cut -f1)" "$(find "$bucket" -type f | wc -l)" "$secs" "$((kb / 1024))"
fi
# A load writes a day in many files (one per 64 MB chunk of JSON); `cts compact` merges each day
# into one. Run twice without a grace period (no query runs meanwhile) so that only the merged
# files are left, for DuckDB too.
if [ ! -f "$data/.compacted" ]; then
  printf 'Parquet files before compaction: %s\n' "$(find "$data/archive/traces" -name '*.parquet' | wc -l)"
  /usr/bin/time -o "$work/compact-$traces.time" -f '%e %M' "$cts" --data-dir "$data" compact --grace-secs 0
  "$cts" --data-dir "$data" compact --grace-secs 0 >/dev/null
  touch "$data/.compacted"
fi
if [ -f "$work/compact-$traces.time" ]; then
  read -r secs kb < "$work/compact-$traces.time"
  printf 'cts compact: %s s, %d MB peak RSS\n' "$secs" "$((kb / 1024))"
fi
printf 'archive: %s in %s Parquet files\n' "$(du -sh "$data/archive/traces" | cut -f1)" "$(find "$data/archive/traces" -name '*.parquet' | wc -l)"
archive="$data/archive"
pick() { "$cts" --data-dir "$data" sql --format csv "$1" | sed -n 2p; }
id=$(pick "SELECT trace_id FROM traces WHERE day = '2024-06-27' ORDER BY trace_id LIMIT 1 OFFSET 777")
resource=$(pick "SELECT resource_id FROM traces WHERE resource_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 OFFSET 50")
user=$(pick "SELECT user_name FROM traces WHERE trace_rating IN ('warning', 'incident') GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
queries="$data/queries.txt"
cat > "$queries" <<Q
counts_by_day_and_rating|SELECT day, trace_rating, count(*) AS n FROM traces GROUP BY day, trace_rating ORDER BY day, trace_rating
top_operators|SELECT user_name, count(*) AS n FROM traces GROUP BY user_name ORDER BY n DESC, user_name LIMIT 10
one_trace_by_id|SELECT * FROM traces WHERE trace_id = '$id'
one_resource_history|SELECT time, trace_name, user_name FROM traces WHERE resource_id = '$resource' ORDER BY time
one_user_failures|SELECT time, trace_name, trace_rating, code FROM traces WHERE user_name = '$user' AND trace_rating IN ('warning', 'incident') ORDER BY time
Q
bench=$(ls -t "$CARGO_TARGET_DIR"/release/deps/queries-* | grep -v '\.d$' | head -1)
ours=$("$bench" "$archive" "$queries")
theirs=$(python3 benches/duckdb_queries.py "$archive" "$queries")
printf '\n%s traces; DuckDB %s; median of 5 runs after a warm-up, in-process\n\n' "$traces" "$(python3 -c 'import duckdb; print(duckdb.__version__)')"
printf '| question | rows | cts | DuckDB | cts faster by |\n|---|---|---|---|---|\n'
paste -d' ' <(echo "$ours") <(echo "$theirs") | while read -r name rows ms _ name2 rows2 dms _; do
  [ "$rows" = "$rows2" ] || { echo "row counts differ for $name: $rows vs $rows2" >&2; exit 1; }
  printf '| %s | %s | %s ms | %s ms | %.1fx |\n' "$name" "$rows" "$ms" "$dms" "$(echo "$dms/$ms" | bc -l)"
done

# The trace_id lookup as a user runs it: a whole `cts sql` process (start-up, planning, reading).
for _ in 1 2 3; do
  /usr/bin/time -f '%e' -o "$work/lookup.time" "$cts" --data-dir "$data" sql "SELECT trace_id, time, trace_name FROM traces WHERE trace_id = '$id'" >/dev/null
  cat "$work/lookup.time"
done | sort -n | sed -n 2p | xargs printf '\none trace by trace_id with `cts sql`, a whole process: %s s (median of 3)\n'
