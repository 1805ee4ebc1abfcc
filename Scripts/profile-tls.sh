#!/usr/bin/env bash
# Where TLS's cost goes: three release nodes on 127.0.0.2-4 (ports 7770/7780, fsync per write,
# --cores 1), first with --certs-dir (mutual TLS between nodes, HTTPS), then plain; each time
# 50 workers of `cairn bench load` send GETs to node 2 from 127.0.0.100 for 14 s while
# `perf record` samples node 2 (the coordinator) for 10 s. Prints ops/s and p50/p99 of each,
# and the share of node 2's samples in BoringSSL (swift-nio-ssl's), in NIOSSL's Swift handler
# and in swift-crypto (the seal of contexts, HMAC-SHA256).
#
#   ./Scripts/profile-tls.sh
#
# Figures: docs/benchmarks.md, "What TLS and sealed contexts cost".
set -euo pipefail
cd "$(dirname "$0")/.."

./Scripts/setup.sh curl
command -v perf >/dev/null || ./Scripts/setup.sh linux-perf
swift build -c release --product cairn >/dev/null
cairn=$PWD/.build/release/cairn
# shellcheck source=Scripts/three-nodes-lib.sh
. Scripts/three-nodes-lib.sh
listen_port=7770 http_port=7780 resp_port="" durability=always name=profile-tls extra_args=""
certificates=$(mktemp -d "${TMPDIR:-/tmp}/cairn-profile-tls-certs.XXXXXX")
out=$(mktemp -d "${TMPDIR:-/tmp}/cairn-profile-tls.XXXXXX")
three_nodes_certs "$certificates" "$cairn"

for mode in tls plain; do
  certs="" ca=()
  if [ "$mode" = tls ]; then certs=$certificates ca=(--ca "$certificates/ca/ca.crt"); fi
  three_nodes_up
  "$cairn" bench load "${ca[@]}" --workload put --concurrency 50 --duration 5 --nodes 127.0.0.2:$http_port \
    --source-address 127.0.0.100 --quiet >/dev/null
  "$cairn" bench load "${ca[@]}" --workload get --no-preload --concurrency 50 --duration 14 --nodes 127.0.0.2:$http_port \
    --source-address 127.0.0.100 --quiet --json >"$out/$mode.json" &
  load=$!
  sleep 2
  perf record -F 499 -p "${pids[0]}" -o "$out/$mode.data" -- sleep 10 >/dev/null 2>&1
  wait "$load"
  three_nodes_down
  trap - EXIT
done
rm -rf "$certificates"

share() { perf report -i "$1" --no-children --sort sym -q 2>/dev/null | grep -E "$2" | awk '{ s += $1 } END { printf "%.1f%%", s }'; }
for mode in tls plain; do
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); l=r["latency"]; print("%-5s GET: %.0f ops/s, p50 %.2f ms, p99 %.2f ms" % (sys.argv[2], r["ops_per_second"], l["p50_ms"], l["p99_ms"]))' \
    "$out/$mode.json" "$mode"
  echo "      node 2's samples: BoringSSL $(share "$out/$mode.data" 'CNIOBoringSSL|bssl::|aead_aes|gcm_|aes_hw'), NIOSSL $(share "$out/$mode.data" 'NIOSSL'), swift-crypto (seal) $(share "$out/$mode.data" 'CCryptoBoringSSL')"
done
rm -rf "$out"
