#!/usr/bin/env bash
# Recording throughput and trace-list latency of `cts serve` (release build) with TRACES traces
# (default 1,000,000) recorded over HTTP into an empty hot store, BATCH per request (default
# 1000), CONCURRENCY requests at a time (default 4); then the same recording with NOTIFICATIONS
# key-event notifications (default 100; 0 skips it) matched on every trace, their few messages
# sent to a receiver on loopback, and the ratio of the two (medians of ROUNDS alternating runs of
# each, default 3). One command: benches/serve.sh [TRACES]
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

notifications=${NOTIFICATIONS:-100}
topic="urn:smn:eu-de:bench-project:bench"

# The receiver of the notifications' messages (answers 200 to every POST), kept small: it runs
# on the same cores as the server.
exec 3< <("$bench" receive)
read -r receiver_port <&3
receiver=$!
servers=()
trap 'kill $receiver "${servers[@]}" 2>/dev/null || true' EXIT

# One round: a fresh server and data directory; prints the client's report; $2 notifications.
round() {
  local data="$work/serve-$traces-$1" n=$2
  rm -rf "$data"
  mkdir -p "$data"
  printf '{"topics": {"%s": {"url": "http://127.0.0.1:%s/", "secret": "bench"}}}' "$topic" "$receiver_port" > "$data/serve.json"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$cts" --data-dir "$data" serve --listen "127.0.0.1:$port" --token bench=bench-project \
    --config "$data/serve.json" --transfer-interval 1h 2> "$data/serve.log" &
  local server=$!
  servers+=("$server")
  for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null && break
    sleep 0.1
  done
  local extra=()
  [ "$n" -gt 0 ] && extra=("$n" "$topic")
  /usr/bin/time -f 'client: %e s, %M KB peak RSS' "$bench" "http://127.0.0.1:$port" bench bench-project "$traces" "$batch" "$concurrency" "${extra[@]}" | tee "$data/report.txt"
  local peak
  peak=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
  printf '\nserver peak RSS: %d MB; hot store on disk: %s; notification messages delivered: %s\n' \
    "$((peak / 1024))" "$(du -sh "$data/projects/bench-project/hot" | cut -f1)" \
    "$(grep -c '"outcome":"delivered"' "$data/projects/bench-project/deliveries.jsonl" 2>/dev/null || echo 0)"
  kill -TERM $server
  wait $server
}

rate() { grep -o '[0-9]* traces/s' "$work/serve-$traces-$1/report.txt" | head -1 | cut -d' ' -f1; }

# Rounds without and with notifications, alternating, ROUNDS times each (default 3): plain runs
# alone vary by about 15% here, so the ratio is of the medians.
rounds=${ROUNDS:-3}
plain=() notified=()
for r in $(seq "$rounds"); do
  printf '\n=== round %s of %s: recording without notifications ===\n' "$r" "$rounds"
  round plain 0
  plain+=("$(rate plain)")
  if [ "$notifications" -gt 0 ]; then
    printf '\n=== round %s of %s: the same recording with %s notifications ===\n' "$r" "$rounds" "$notifications"
    round notified "$notifications"
    notified+=("$(rate notified)")
  fi
done
if [ "$notifications" -gt 0 ]; then
  python3 - "${plain[*]}" "${notified[*]}" <<PY
import statistics, sys
plain = [int(x) for x in sys.argv[1].split()]
notified = [int(x) for x in sys.argv[2].split()]
p, n = statistics.median(plain), statistics.median(notified)
print(f"\nrecording without notifications: {plain} traces/s, median {p:.0f}")
print(f"recording with $notifications notifications: {notified} traces/s, median {n:.0f}")
print(f"ratio of the medians: {n / p:.2f}x")
PY
fi
