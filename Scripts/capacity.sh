#!/usr/bin/env bash
# What holding many keys costs a node: starts three release cairnd nodes on 127.0.0.2-4
# (ports 7570/7580, Redis protocol on 7579; N=3, so every node holds every key), loads KEYS
# distinct keys of VALUE_BYTES random (incompressible) bytes through the Redis protocol (CAIRN.PUT with the empty
# context: blind writes of new keys, pipelined by redis-cli --pipe, a third through each
# node), waits until every node holds all of them, and prints per node: keys, RSS and
# anonymous RSS (from /proc), the keydir's bytes, the data on disk, and each per key.
#
#   ./Scripts/capacity.sh                        # 1,000,000 keys of 100 bytes
#   ./Scripts/capacity.sh --keys 10000000        # 10 million (about 35 min on 2 vCPUs)
#
# With few keys the disk figure is mostly the active files each partition preallocates.
# --durability interval:1000 while loading (memory does not depend on it; loading is faster).
# redis-cli cannot bind a source address: it connects from 127.0.0.1 (loopback only).
# Figures and the sizing built on them: docs/capacity.md.
set -euo pipefail
cd "$(dirname "$0")/.."

keys=1000000 value_bytes=100
while [ $# -gt 0 ]; do
  case $1 in
    --keys) keys=$2; shift 2 ;;
    --value-bytes) value_bytes=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "capacity: unknown argument $1" >&2; exit 2 ;;
  esac
done

./Scripts/setup.sh redis-tools curl
# shellcheck source=Scripts/three-nodes-lib.sh
. Scripts/three-nodes-lib.sh
name=capacity listen_port=7570 http_port=7580 resp_port=7579 durability=interval:1000
three_nodes_up

metric() {  # metric NODE NAME: the value of an unlabelled gauge
  curl -fsS "http://127.0.0.$1:7580/metrics" | awk -v n="$2" '$1 == n { printf "%.0f", $2 }'
}
pool=$(head -c 49152 /dev/urandom | base64 -w0)
started=$(date +%s)
echo "capacity: loading $keys keys of $value_bytes bytes (a third through each node)…" >&2
for k in 0 1 2; do
  node=$((k + 2))
  # Values are slices of random base64 at a different offset per key: LZ4 (which the engine
  # applies to values) finds next to nothing to compress, as with real data.
  awk -v from=$((k * keys / 3)) -v to=$(((k + 1) * keys / 3)) -v size="$value_bytes" -v pool="$pool" 'BEGIN {
      n = length(pool) - size
      for (i = from; i < to; i++) { key = sprintf("key:%012d", i); v = substr(pool, 1 + (i * 7919) % n, size)
        printf "*4\r\n$9\r\nCAIRN.PUT\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$0\r\n\r\n", length(key), key, length(v), v } }' \
    | redis-cli -h "127.0.0.$node" -p 7579 --pipe >"$work/load$node.log" 2>&1 &
done
wait_loads=0
for job in $(jobs -p); do
  case " ${pids[*]} " in *" $job "*) continue ;; esac
  wait "$job" || wait_loads=1
done
[ "$wait_loads" = 0 ] || { echo "capacity: a load failed; see $work/load*.log" >&2; tail -3 "$work"/load*.log >&2; exit 1; }
grep -h "errors" "$work"/load*.log >&2
loaded=$(date +%s)
for _ in $(seq 1 600); do
  all=1
  for i in 2 3 4; do [ "$(metric "$i" cairn_storage_keys)" -ge "$keys" ] 2>/dev/null || all=0; done
  [ "$all" = 1 ] && break
  sleep 1
done
echo "loaded in $((loaded - started)) s ($((keys / (loaded - started + 1))) keys/s through 3 nodes, N=3)"
printf '%-6s %10s %10s %10s %12s %12s %10s %10s %10s %10s\n' node keys "RSS MiB" "anon MiB" "keydir MiB" "disk MiB" \
  "RSS B/key" "anon B/key" "keydir B/key" "disk B/key"
for k in 0 1 2; do
  i=$((k + 2)) pid=${pids[$k]}
  held=$(metric "$i" cairn_storage_keys)
  keydir=$(metric "$i" cairn_storage_keydir_bytes)
  rss=$(awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$pid/status")
  anon=$(awk '/^RssAnon/ { print $2 * 1024 }' "/proc/$pid/status")
  disk=$(du -sb "$work/node$i/partitions" | awk '{ print $1 }')
  awk -v n="$i" -v k="$held" -v r="$rss" -v a="$anon" -v d="$keydir" -v s="$disk" 'BEGIN {
    printf "%-6s %10d %10.1f %10.1f %12.1f %12.1f %10.1f %10.1f %10.1f %10.1f\n", n, k, r / 1048576, a / 1048576, d / 1048576,
      s / 1048576, r / k, a / k, d / k, s / k }'
done
