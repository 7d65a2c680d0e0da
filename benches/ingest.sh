#!/usr/bin/env bash
# Durable hot-store ingest: traces/s of `cts ingest` at 1, 100 and 10,000 traces per append, each
# append synced to disk before the next. Realistic traces: a `cts gen` bucket dated today, as NDJSON.
# One command: benches/ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=${CTS_BENCH_DIR:-benches/data}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
cargo build --release --quiet
cts="$CARGO_TARGET_DIR/release/cts"
mkdir -p "$work"

rm -rf "$work/ingest-bucket"
"$cts" gen "$work/ingest-bucket" --traces 200000 --days 2 --seed 7 --plain-json --no-digests --duplicates 0 >/dev/null
python3 - "$work/ingest-bucket" "$work/ingest.ndjson" <<'PY'
import json, pathlib, sys
with open(sys.argv[2], "w") as out:
    for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.json")):
        for trace in json.loads(path.read_text()):
            out.write(json.dumps(trace, separators=(",", ":")) + "\n")
PY

printf '\n| traces per append | traces | appends | seconds | traces/s | appends/s |\n|---|---|---|---|---|---|\n'
for batch in 1 100 10000; do
  case $batch in 1) n=3000 ;; 100) n=100000 ;; *) n=200000 ;; esac
  head -n "$n" "$work/ingest.ndjson" > "$work/ingest-$batch.ndjson"
  rm -rf "$work/ingest-data"; sync
  line=$("$cts" --data-dir "$work/ingest-data" ingest --batch "$batch" "$work/ingest-$batch.ndjson" | head -1)
  # "ingested N traces from 1 inputs in A durable appends, S s (T traces/s, P appends/s)"
  echo "$line" | sed -E 's/ingested ([0-9]+) traces from [0-9]+ inputs in ([0-9]+) durable appends, ([0-9.]+) s \(([0-9]+) traces\/s, ([0-9]+) appends\/s\)/'"| $batch | \1 | \2 | \3 | \4 | \5 |"'/'
done
