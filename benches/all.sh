#!/usr/bin/env bash
# Every benchmark, one after the other, each printing its table (cts and DuckDB side by side on the
# same input, in the same run, where DuckDB can do the same work):
#   load.sh     cts load vs DuckDB read_json -> Parquet, 2 cores and 1; sizes; peak RSS
#   queries.sh  five typical questions over the same Parquet, in-process; load RSS; lookup by trace_id
#   reports.sh  the report pack vs DuckDB translations of every report
#   ingest.sh   durable hot-store ingest (no DuckDB peer)
#   serve.sh    recording through `cts serve` and trace-list latency (no DuckDB peer)
#   verify.sh   cts verify of ~100,000 trace files against cts load of them, and md5sum
#   console.sh  the console's pages over 10 M archived and 1 M hot traces, DuckDB's query beside
#   cluster.sh  the report pack on a Ballista cluster against one process; planning over many files
#   export.sh   cts export of a 1.4 M-trace day against DuckDB's COPY ... ORDER BY time
# One command: benches/all.sh [TRACES] (default 1,000,000; benches/queries.sh 10000000 for 10 M).
set -euo pipefail
cd "$(dirname "$0")"
traces=${1:-1000000}
for bench in load queries reports; do
  printf '\n## %s\n' "$bench"
  "./$bench.sh" "$traces"
done
printf '\n## ingest\n'
./ingest.sh
printf '\n## serve\n'
./serve.sh "$traces"
printf '\n## verify\n'
./verify.sh
printf '\n## console\n'
./console.sh
printf '\n## cluster\n'
./cluster.sh
printf '\n## export\n'
./export.sh
