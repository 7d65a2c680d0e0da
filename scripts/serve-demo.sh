#!/usr/bin/env bash
# The CTS API of `cts serve` with plain HTTP calls (curl): create a tracker with a bucket and a
# file prefix, record traces, list them with filters and markers, stop and start the tracker,
# transfer the trace files into the bucket, and load them back with `cts load`.
#
# usage: scripts/serve-demo.sh [WORK_DIR]     (python3 only formats and picks JSON fields)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
cargo build --quiet
cts="$CARGO_TARGET_DIR/debug/cts"
work=${1:-$(mktemp -d)}
data="$work/serve-data"
rm -rf "$data" "$work/loaded"
mkdir -p "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$cts" --data-dir "$data" serve --listen "127.0.0.1:$port" --token demo-token=demo-project \
  --transfer-interval 1h 2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done

api="http://127.0.0.1:$port/v3/demo-project"
auth=(-H "X-Auth-Token: demo-token" -H "Content-Type: application/json")
show() { printf '\n$ %s\n' "$1"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

show "create the management tracker: bucket demo-bucket (created with it), file prefix demo"
curl -sS "${auth[@]}" -X POST "$api/tracker" -d '{
  "tracker_type": "system", "tracker_name": "system",
  "obs_info": {"bucket_name": "demo-bucket", "file_prefix_name": "demo", "is_obs_created": true,
               "compress_type": "gzip", "is_sort_by_service": true}}' | json 'json.dumps(d, indent=1)'

show "record 120 traces of the last hour, in two batches"
now=$(date +%s%3N)
for part in 0 1; do
  batch=$(python3 - "$now" "$part" <<'PY'
import json, sys
now, part = int(sys.argv[1]), int(sys.argv[2])
services, users = ["ECS", "VPC", "IAM"], ["alice", "bob", "carol"]
print(json.dumps({"traces": [{
    "trace_id": f"demo-{i:04d}", "time": now - i * 25_000, "service_type": services[i % 3],
    "resource_type": "server", "resource_id": f"res-{i % 10}", "resource_name": f"server-{i % 10}",
    "trace_name": ["createServer", "deleteServer"][i % 2],
    "trace_rating": ["normal", "normal", "warning", "incident"][i % 4], "trace_type": "ApiCall",
    "source_ip": "192.0.2.10", "code": 200, "user": {"name": users[i % 3], "domain": {"name": "demo"}},
} for i in range(part * 60, part * 60 + 60)]}))
PY
)
  curl -sS "${auth[@]}" -X POST "$api/traces" -d "$batch"; echo
done

show "a bad trace is refused, naming the field"
curl -sS "${auth[@]}" -X POST "$api/traces" \
  -d '[{"trace_id": "bad-1", "time": "yesterday", "service_type": "ECS", "trace_name": "x", "trace_rating": "normal"}]'
echo

show "list: the 10 newest of the last hour"
curl -sS "${auth[@]}" "$api/traces" | json '[t["trace_id"] for t in d["traces"]], d["meta_data"]'

show "list with filters: service_type=VPC, user=bob, trace_rating=warning"
curl -sS "${auth[@]}" "$api/traces?service_type=VPC&user=bob&limit=200" | json 'd["meta_data"]["count"]'
curl -sS "${auth[@]}" "$api/traces?trace_rating=warning&limit=200" | json 'd["meta_data"]["count"]'

show "page through everything, 50 per page, by marker"
next=""; total=0
while :; do
  page=$(curl -sS "${auth[@]}" "$api/traces?limit=50${next:+&next=$next}")
  n=$(echo "$page" | json 'd["meta_data"]["count"]')
  total=$((total + n))
  next=$(echo "$page" | json 'd["meta_data"]["marker"] or ""')
  echo "page of $n, marker ${next:-null}"
  [ -n "$next" ] || break
done
echo "listed $total traces"

show "stop the tracker: it records nothing new"
curl -sS "${auth[@]}" -X PUT "$api/tracker" -d '{"tracker_type": "system", "tracker_name": "system", "status": "disabled"}' -o /dev/null -w 'PUT status %{http_code}\n'
curl -sS "${auth[@]}" "$api/trackers" | json 'd["trackers"][0]["status"]'
curl -sS "${auth[@]}" -X POST "$api/traces" -d '[{"trace_id": "while-stopped", "time": '"$now"', "service_type": "ECS", "trace_name": "x", "trace_rating": "normal"}]'
echo

show "start it again"
curl -sS "${auth[@]}" -X PUT "$api/tracker" -d '{"tracker_type": "system", "tracker_name": "system", "status": "enabled"}' -o /dev/null -w 'PUT status %{http_code}\n'

show "transfer now (otherwise every --transfer-interval)"
curl -sS "${auth[@]}" -X POST "$api/transfer"; echo

show "the trace files in the bucket"
bucket="$data/buckets/demo-bucket"
(cd "$bucket" && find CloudTraces -type f | sort)

show "cts load the bucket into a new archive"
"$cts" --data-dir "$work/loaded" load "$bucket" --quiet
loaded=$("$cts" --data-dir "$work/loaded" sql --format csv "SELECT count(*) FROM traces" | tail -1)
echo "listed $total, loaded $loaded"
[ "$total" = "$loaded" ] || { echo "counts differ" >&2; exit 1; }

show "stop the server (SIGTERM: requests in flight finish)"
kill -TERM $server
wait $server
tail -1 "$work/serve.log"
