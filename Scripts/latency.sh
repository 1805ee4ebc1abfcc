#!/usr/bin/env bash
# Latency of single requests against a running local cluster (./Scripts/cluster.sh up):
# a PUT of a new key through node 1 and a GET of it through node 3, each timed
#   - by curl itself (%{time_total}: connect + request + response, no process start), and
#   - end to end as a command (`curl` and `cairn` processes, start-up included).
# Usage: ./Scripts/latency.sh [COUNT]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200}
cairn=${CAIRN_BIN:-.build/release/cairn}
put_node=127.0.0.1:7080
get_node=127.0.0.3:7080
run=$RANDOM

percentiles() {  # reads milliseconds, one per line
  sort -n | awk -v name="$1" '{ v[NR] = $1 } END {
    printf "%-44s n=%d  median %.2f ms  p90 %.2f ms  p99 %.2f ms\n", name, NR, v[int(NR*0.5)+1], v[int(NR*0.9)+1], v[int(NR*0.99)+1] }'
}

now_ms() { date +%s%N | awk '{ printf "%.3f\n", $1 / 1000000 }'; }

for i in $(seq 1 "$count"); do
  curl -sf -o /dev/null -w '%{time_total}\n' -X PUT "http://$put_node/v1/keys/lat-$run-$i" \
    -H 'Content-Type: application/octet-stream' --data-binary "value-$i"
done | awk '{ print $1 * 1000 }' | percentiles "HTTP PUT (curl time_total, node 1)"
for i in $(seq 1 "$count"); do
  curl -sf -o /dev/null -w '%{time_total}\n' "http://$get_node/v1/keys/lat-$run-$i"
done | awk '{ print $1 * 1000 }' | percentiles "HTTP GET (curl time_total, node 3)"

for i in $(seq 1 "$count"); do
  start=$(now_ms); curl -sf -o /dev/null -X PUT "http://$put_node/v1/keys/latc-$run-$i" \
    -H 'Content-Type: application/octet-stream' --data-binary "value-$i"; end=$(now_ms)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
done | percentiles "curl PUT command, end to end"
for i in $(seq 1 "$count"); do
  start=$(now_ms); curl -sf -o /dev/null "http://$get_node/v1/keys/latc-$run-$i"; end=$(now_ms)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
done | percentiles "curl GET command, end to end"

if [ -x "$cairn" ]; then
  for i in $(seq 1 "$count"); do
    start=$(now_ms); "$cairn" put "latx-$run-$i" "value-$i" --node "$put_node" >/dev/null; end=$(now_ms)
    awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
  done | percentiles "cairn put, end to end (process start included)"
  for i in $(seq 1 "$count"); do
    start=$(now_ms); "$cairn" get "latx-$run-$i" --node "$get_node" >/dev/null; end=$(now_ms)
    awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
  done | percentiles "cairn get, end to end (process start included)"
fi
