#!/usr/bin/env bash
# Verify benchmark, on one signed sample bucket of about 100,000 trace files, in one run:
#   cts verify            every digest chain and every trace file, against
#   cts load              of the same bucket (the floor of the integrity work: verify at least as
#                         fast as load reads it),
#   cts load --verify     the cost of checking each file while loading, against plain load, and
#   md5sum                every trace file hashed by coreutils, 2 processes: reading and hashing
#                         alone, the peer a user would script.
# The bucket is read once before timing, so every run reads it from the page cache.
# One command: benches/verify.sh [TRACES] [DAYS] (default 400,000 traces over 56 days: about
# 113,000 trace files, as the sample delivers about 2,000 files a day at that density).
set -euo pipefail
cd "$(dirname "$0")/.."
traces=${1:-400000}
days=${2:-56}
work=${CTS_BENCH_DIR:-benches/data}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cts/target}"
cores=$(nproc)

for tool in /usr/bin/time bc; do command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq time bc; }; done
cargo build --release --quiet
cts="$CARGO_TARGET_DIR/release/cts"

bucket="$work/signed-$traces-$days"
if [ ! -f "$bucket/.complete" ]; then
  rm -rf "$bucket"
  "$cts" gen "$bucket" --traces "$traces" --days "$days" --seed 42 --end 2024-06-30 >/dev/null
  touch "$bucket/.complete"
fi
key="$bucket.public-key.pem"
files=$(find -L "$bucket" -name '*_CloudTrace_*' | wc -l)
digests=$(find -L "$bucket" -name '*_CloudTrace-Digest_*' ! -name '*.meta.json' | wc -l)
bytes=$(find -L "$bucket" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
find -L "$bucket" -type f -print0 | xargs -0 cat >/dev/null # into the page cache

measure() { # command...: prints "seconds peak_rss_mb exit_status"
  local log status=0; log=$(mktemp)
  /usr/bin/time -f '%e %M' -o "$log" "$@" >/dev/null 2>&1 || status=$?
  awk -v s="$status" '{printf "%s %.0f %s\n", $1, $2/1024, s}' "$log"; rm -f "$log"
}

rm -rf "$work/verify-data" "$work/load-data" "$work/load-verify-data"
read -r vs vm vx < <(measure "$cts" --data-dir "$work/verify-data" verify "$bucket" --public-key "$key")
read -r ls lm lx < <(measure "$cts" --data-dir "$work/load-data" load "$bucket" --quiet)
read -r ws wm wx < <(measure "$cts" --data-dir "$work/load-verify-data" load "$bucket" --quiet --verify --public-key "$key")
read -r ms mm mx < <(measure sh -c "find -L '$bucket' -name '*_CloudTrace_*' -print0 | xargs -0 -P $cores -n 1000 md5sum")
for x in "$vx" "$lx" "$wx" "$mx"; do [ "$x" = 0 ] || { echo "a run failed (exit status $x)" >&2; exit 1; }; done

printf '\n%s traces over %s days: %s trace files and %s digests, %.1f MB; %s cores\n\n' \
  "$traces" "$days" "$files" "$digests" "$(echo "$bytes/1000000" | bc -l)" "$cores"
printf '| run | seconds | trace files/s | peak RSS | time against cts load |\n|---|---|---|---|---|\n'
row() { printf '| %s | %s s | %.0f | %s MB | %.2fx |\n' "$1" "$2" "$(echo "$files/$2" | bc -l)" "$3" "$(echo "$2/$ls" | bc -l)"; }
row "cts verify" "$vs" "$vm"
row "cts load" "$ls" "$lm"
row "cts load --verify" "$ws" "$wm"
row "md5sum (coreutils, $cores processes)" "$ms" "$mm"
printf '\ncts verify runs in %.2fx the time of cts load; load --verify in %.2fx; verify in %.2fx of md5sum alone\n' \
  "$(echo "$vs/$ls" | bc -l)" "$(echo "$ws/$ls" | bc -l)" "$(echo "$vs/$ms" | bc -l)"
