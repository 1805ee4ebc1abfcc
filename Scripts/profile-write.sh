#!/usr/bin/env bash
# Where the time of a request goes on a 3-node cluster: starts three release cairnd nodes on
# 127.0.0.2-4 (ports 7270/7280, N=3, R=W=2, fsync per write), drives node 2 with wrk, and prints
# per run the request rate, the server CPU per 1,000 requests of each node (from
# /proc/PID/stat) and the context switches per request of each node (from
# /proc/PID/task/*/status). With --perf it also samples node 2 with `perf record -g` during one
# more run and prints the top symbols, by thread and by shared object.
#
#   ./Scripts/profile-write.sh                    # PUT, 3 runs of 8 s, 50 connections
#   ./Scripts/profile-write.sh --op get --runs 1  # GET
#   ./Scripts/profile-write.sh --connections 1    # one request at a time (latency)
#   ./Scripts/profile-write.sh --perf             # and a perf profile of node 2
#
# wrk cannot bind a source address, so it connects from 127.0.0.1 (loopback; no partitions here).
# A GET run first writes random keys for the same time, so a few percent of its keys are absent
# (404, counted as non-2xx). Switches are summed over the live threads at the start and end of
# a run; a thread that exits in between takes its count with it, so small figures are rough.
# Figures and what each change gained: docs/benchmarks.md, "Where the time of a write goes".
set -euo pipefail
cd "$(dirname "$0")/.."

op=put runs=3 seconds=8 connections=50 perf=0 keys=10000
while [ $# -gt 0 ]; do
  case $1 in
    --op) op=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --perf) perf=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "profile-write: unknown argument $1" >&2; exit 2 ;;
  esac
done
case $op in put|get) ;; *) echo "profile-write: --op is put or get" >&2; exit 2 ;; esac

./Scripts/setup.sh wrk curl
[ "$perf" = 0 ] || command -v perf >/dev/null || ./Scripts/setup.sh linux-perf
# shellcheck source=Scripts/three-nodes-lib.sh
. Scripts/three-nodes-lib.sh
name=profile-write listen_port=7270 http_port=7280 resp_port="" durability=always
three_nodes_up

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s }'; }
ticks_per_second=$(getconf CLK_TCK)
threads=$(( connections < 2 ? 1 : 2 ))
drive() { wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s Scripts/wrk/cairn.lua http://127.0.0.2:7280 -- "$1" "$keys" 100; }

if [ "$op" = get ]; then drive put >/dev/null; fi  # something to read
echo "op=$op connections=$connections seconds=$seconds (node 2 coordinates; nodes 3 and 4 are replicas)"
printf '%-4s %10s %8s %8s   %s\n' run "req/s" "p50" "p99" "CPU s per 1,000 req (n2 n3 n4) | switches per req (n2 n3 n4)"
for run in $(seq 1 "$runs"); do
  declare -a c0=() s0=()
  for pid in "${pids[@]}"; do c0+=("$(cpu_ticks "$pid")"); s0+=("$(switches "$pid")"); done
  out=$(drive "$op")
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  rate=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  cpu="" sw=""
  for k in 0 1 2; do
    pid=${pids[$k]}
    cpu+=$(awk -v a="${c0[$k]}" -v b="$(cpu_ticks "$pid")" -v n="$requests" -v t="$ticks_per_second" \
      'BEGIN { printf " %.3f", (b - a) / t * 1000 / n }')
    sw+=$(awk -v a="${s0[$k]}" -v b="$(switches "$pid")" -v n="$requests" 'BEGIN { printf " %.1f", (b - a) / n }')
  done
  errors=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' <<<"$out" || true)
  printf '%-4s %10s %8s %8s  %s |%s %s\n' "$run" "$rate" "$p50" "$p99" "$cpu" "$sw" "$errors"
done

if [ "$perf" = 1 ]; then
  drive "$op" >/dev/null &
  load=$!
  sleep 1
  perf record -F 999 -g -p "${pids[0]}" -o "$work/perf.data" -- sleep $((seconds - 2)) >/dev/null 2>&1
  wait "$load"
  echo "node 2, by thread:"
  perf report -i "$work/perf.data" --no-children --sort comm -q -g none 2>/dev/null | head -6
  echo "node 2, by shared object:"
  perf report -i "$work/perf.data" --no-children --sort dso -q -g none 2>/dev/null | head -8
  echo "node 2, top symbols (self):"
  perf report -i "$work/perf.data" --no-children --sort sym -q -g none 2>/dev/null | swift demangle --simplified | head -25 | cut -c1-150
fi
