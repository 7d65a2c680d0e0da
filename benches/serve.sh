#!/usr/bin/env bash
# Recording throughput and trace-list latency of `cts serve` (release build) with TRACES traces
# (default 1,000,000) recorded over HTTP into an empty hot store, BATCH per request (default
# 1000), CONCURRENCY requests at a time (default 4). One command: benches/serve.sh [TRACES]
set -euo pipefail
cd "$(dirname "$0")/.."
traces=${1:-1000000}
batch=${BATCH:-1000}
concurrency=${CONCURRENCY:-4}
work=${CTS_BENCH_DIR:-benches/data}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
cargo build --release --quiet
cargo bench --bench serve --no-run --quiet 2>/dev/null
cts="$CARGO_TARGET_DIR/release/cts"
bench=$(ls -t "$CARGO_TARGET_DIR"/release/deps/serve-* | grep -v '\.d$' | head -1)

data="$work/serve-$traces"
rm -rf "$data"
mkdir -p "$data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$cts" --data-dir "$data" serve --listen "127.0.0.1:$port" --token bench=bench-project \
  --transfer-interval 1h 2> "$data/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null && break
  sleep 0.1
done
/usr/bin/time -f 'client: %e s, %M KB peak RSS' "$bench" "http://127.0.0.1:$port" bench bench-project "$traces" "$batch" "$concurrency"
peak=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
printf '\nserver peak RSS: %d MB; hot store on disk: %s\n' "$((peak / 1024))" "$(du -sh "$data/projects/bench-project/hot" | cut -f1)"
kill -TERM $server
wait $server
