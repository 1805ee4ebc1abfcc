#!/usr/bin/env bash
# What TLS and sealed contexts cost: three release cairnd nodes on 127.0.0.2-4 (ports
# 7770/7780, N=3, R=W=2, fsync per write, --cores 1) started three ways, one after another in
# each round, and driven by `cairn bench load` from 127.0.0.100:
#   plain     plain TCP on every port, contexts sealed (the default)
#   tls       cairnd --certs-dir: mutual TLS 1.3 between nodes, HTTPS for the clients
#   unsealed  plain TCP, cairnd --unsafe-mode unsealed-contexts (contexts without their MAC)
# Per configuration and workload it prints ops/s and latency p50/p99 (ms), and the ratios to
# plain measured in the same round. Every GET answer carries a sealed context (one MAC made);
# the PUTs are plain writes (no context to open; the answer carries one).
#
#   ./Scripts/bench-tls.sh                      # 2 rounds, 10 s per run, 50 and 1 workers
#   ./Scripts/bench-tls.sh --rounds 1 --seconds 5
#
# Figures: docs/benchmarks.md, "What TLS and sealed contexts cost".
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=2 seconds=10
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench-tls: unknown argument $1" >&2; exit 2 ;;
  esac
done

./Scripts/setup.sh curl
swift build -c release --product cairn >/dev/null
cairn=$PWD/.build/release/cairn
# shellcheck source=Scripts/three-nodes-lib.sh
. Scripts/three-nodes-lib.sh
listen_port=7770 http_port=7780 resp_port="" durability=always

certificates=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-tls-certs.XXXXXX")
three_nodes_certs "$certificates" "$cairn"

# run CONFIG WORKLOAD WORKERS: prints "ops p50 p99".
run() {
  local ca=()
  [ "$1" = tls ] && ca=(--ca "$certificates/ca/ca.crt")
  "$cairn" bench load "${ca[@]}" --workload "$2" --concurrency "$3" --duration "$seconds" --keys 10000 --value-bytes 100 \
    --nodes 127.0.0.2:$http_port,127.0.0.3:$http_port,127.0.0.4:$http_port --source-address 127.0.0.100 \
    $([ "$2" = get ] && echo --no-preload) --quiet --json --timeout 10 |
    python3 -c 'import json,sys; r=json.load(sys.stdin); l=r["latency"]; print("%.0f %.2f %.2f" % (r["ops_per_second"], l["p50_ms"], l["p99_ms"]))'
}

declare -A result
for round in $(seq 1 "$rounds"); do
  for config in plain tls unsealed; do
    name=bench-tls certs="" extra_args=""
    [ "$config" = tls ] && certs=$certificates
    [ "$config" = unsealed ] && extra_args="--unsafe-mode unsealed-contexts"
    three_nodes_up
    for workload in put get; do
      for workers in 50 1; do
        result[$round,$config,$workload,$workers]=$(run "$config" "$workload" "$workers")
        echo "bench-tls: round $round $config $workload $workers: ${result[$round,$config,$workload,$workers]}" >&2
      done
    done
    three_nodes_down
    trap - EXIT
  done
done
rm -rf "$certificates"

printf '%-5s %-8s %-4s %7s %9s %8s %8s   %s\n' round config op workers "ops/s" "p50 ms" "p99 ms" "vs plain (ops/s, p50, p99)"
for round in $(seq 1 "$rounds"); do
  for workload in put get; do
    for workers in 50 1; do
      read -r base_ops base_p50 base_p99 <<<"${result[$round,plain,$workload,$workers]}"
      for config in plain tls unsealed; do
        read -r ops p50 p99 <<<"${result[$round,$config,$workload,$workers]}"
        ratio=$(awk -v a="$ops" -v b="$base_ops" -v c="$p50" -v d="$base_p50" -v e="$p99" -v f="$base_p99" \
          'BEGIN { printf "%.2fx %.2fx %.2fx", a / b, c / d, e / f }')
        printf '%-5s %-8s %-4s %7s %9s %8s %8s   %s\n' "$round" "$config" "$workload" "$workers" "$ops" "$p50" "$p99" "$ratio"
      done
    done
  done
done
