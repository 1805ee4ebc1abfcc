#!/usr/bin/env bash
# Cairn against etcd and Redis under the same load, on loopback (docs/benchmarks.md, "Against
# etcd and Redis").
#
#   ./Scripts/bench-compare.sh [--quick] [--write-docs] [--reps N] [--duration S] [--connections C]
#
#   --quick        1 repetition of 2 s runs on 1,000 keys: a smoke test of the whole script
#   --write-docs   also write the tables and the commands into docs/benchmarks.md, between
#                  the markers <!-- bench-compare:begin --> and <!-- bench-compare:end -->
#   --reps N       repetitions (default 3; medians are reported)
#   --duration S   seconds per run (default 10)
#   --connections C  connections per run (default 16; 1 compares one request at a time)
#
# It installs what is missing (redis-server, redis-tools, etcd-server, etcd-client, wrk, from
# Debian through Scripts/setup.sh), builds cairnd (release), and starts, with their data in a
# temporary directory:
#   etcd    3 members on 127.0.0.20-22 (client :2379, peer :2380)
#   Redis   127.0.0.23:6379, AOF with appendfsync everysec, no RDB snapshots
#   Cairn   1 node on 127.0.0.1 (N=R=W=1, --durability interval:1000, Redis's everysec; one
#           core instance per CPU, the default) and 3 nodes on 127.0.0.2-4 (N=3, R=W=2,
#           --durability always, as etcd fsyncs each commit; --cores 1, since the three share
#           this machine's CPUs, as etcd's three members do); internode :7170, HTTP :7180,
#           and Redis protocol :7179 when cairnd has --resp
# Every key is written first; then, repetition by repetition and system by system (interleaved,
# so a change in the machine's load touches every system alike), a run of random puts and a run
# of random gets of 100-byte values over 10,000 keys from 16 connections (--connections):
#   wrk (2 threads, --latency) against Cairn's HTTP API (Scripts/wrk/cairn.lua) and etcd's JSON
#   gateway (Scripts/wrk/etcd.lua); redis-benchmark against Redis and Cairn's Redis port, also
#   pipelined (-P 16) against Redis and the 1-node Cairn.
# Then the tail: the 3-node Cairn, open loop (`cairn bench load --rate`) at half the peak rate
# just measured, for puts and gets, with p50, p99.9 and their ratio.
# Server CPU per 1,000 requests comes from utime + stime in /proc/PID/stat of every server
# process of the system, before and after each run. Everything started is stopped on exit.
#
# Clients cannot leave from 127.0.0.100 here: neither wrk nor redis-benchmark can bind a source
# address, so they connect from 127.0.0.1 to targets on loopback.
#
# Environment: KEEP=1 keeps the temporary directory (logs, raw results).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

quick=0 write_docs=0 reps='' duration='' connections=16
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --write-docs) write_docs=1 ;;
    --reps) reps=$2; shift ;;
    --duration) duration=$2; shift ;;
    --connections) connections=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench-compare: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then
  reps=${reps:-1} duration=${duration:-2} keys=1000
else
  reps=${reps:-3} duration=${duration:-10} keys=10000
fi
[[ $reps =~ ^[1-9][0-9]?$ ]] || { echo "bench-compare: --reps must be 1…99" >&2; exit 2; }
[[ $duration =~ ^[1-9][0-9]{0,2}$ ]] || { echo "bench-compare: --duration must be 1…999 seconds" >&2; exit 2; }
[[ $connections =~ ^[1-9][0-9]{0,3}$ ]] || { echo "bench-compare: --connections must be 1…9999" >&2; exit 2; }
value_bytes=100
wrk_threads=$(( connections < 2 ? 1 : 2 ))
mode=$([ "$quick" = 1 ] && echo quick || echo full)

log() { echo "bench-compare: $*" >&2; }
die() { log "$*"; exit 1; }

# --- Packages and build ---------------------------------------------------------------------
./Scripts/setup.sh redis-server redis-tools etcd-server etcd-client wrk
for tool in redis-server redis-cli redis-benchmark etcd etcdctl wrk curl python3; do
  command -v "$tool" >/dev/null || die "$tool is missing after installing its package"
done
log "building cairnd and cairn (release)…"
swift build -c release --product cairnd >/dev/null
swift build -c release --product cairn >/dev/null
cairnd=$root/.build/release/cairnd
cairn=$root/.build/release/cairn
resp=0
if "$cairnd" --help | grep -q -- --resp; then resp=1; fi

# --- Processes ------------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-compare.XXXXXX")
pids=()
declare -A pid_of_server
failed=1
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$failed" = 1 ] || [ "${KEEP:-}" = 1 ]; then
    log "logs and raw results kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Refuses to start when something already listens where a server of this script would.
port_free() { ! (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
for address in 127.0.0.20:2379 127.0.0.21:2379 127.0.0.22:2379 127.0.0.20:2380 127.0.0.23:6379 \
  127.0.0.1:7180 127.0.0.2:7180 127.0.0.3:7180 127.0.0.4:7180 127.0.0.1:7170 127.0.0.2:7170; do
  port_free "${address%:*}" "${address#*:}" || die "something already listens on $address; stop it first"
done

start() {  # start NAME COMMAND…: runs it in the background, logging to $work/NAME.log
  local name=$1; shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  pid_of_server[$name]=$!
}

wait_until() {  # wait_until WHAT SECONDS COMMAND…: polls every 0.1 s
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not come up within $seconds s; see $work/*.log"
}

log "starting etcd (3 members), Redis, Cairn (1 node and 3 nodes) in $work"
cluster=e1=http://127.0.0.20:2380,e2=http://127.0.0.21:2380,e3=http://127.0.0.22:2380
for i in 1 2 3; do
  ip=127.0.0.$((19 + i))
  start "etcd$i" etcd --name "e$i" --data-dir "$work/etcd$i" \
    --listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
    --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
    --initial-cluster "$cluster" --initial-cluster-token bench-compare --initial-cluster-state new \
    --logger zap --log-level error
done
mkdir -p "$work/redis"
start redis redis-server --bind 127.0.0.23 --port 6379 --protected-mode no --dir "$work/redis" \
  --save '' --appendonly yes --appendfsync everysec --daemonize no
resp_flag() { [ "$resp" = 1 ] && echo "--resp 127.0.0.$1:7179"; }
# shellcheck disable=SC2046
start cairn1 "$cairnd" --data "$work/cairn1" --listen 127.0.0.1:7170 --http 127.0.0.1:7180 $(resp_flag 1) \
  --n 1 --r 1 --w 1 --durability interval:1000 --log-level warning
for i in 2 3 4; do
  seeds=""
  if [ "$i" -gt 2 ]; then seeds="--seeds 127.0.0.2:7170"; fi
  # shellcheck disable=SC2046,SC2086
  start "cairn$i" "$cairnd" --data "$work/cairn$i" --listen "127.0.0.$i:7170" --http "127.0.0.$i:7180" $(resp_flag "$i") \
    $seeds --durability always --cores 1 --log-level warning
  wait_until "Cairn node 127.0.0.$i" 30 curl -fsS "http://127.0.0.$i:7180/health"
done
wait_until "Cairn 1-node" 30 curl -fsS http://127.0.0.1:7180/health
wait_until "Redis" 30 redis-cli -h 127.0.0.23 -p 6379 ping
wait_until "etcd" 60 etcdctl --endpoints=http://127.0.0.20:2379,http://127.0.0.21:2379,http://127.0.0.22:2379 endpoint health
# The 3-node ring has settled when every node sees three valid members.
three_valid() {
  local i
  for i in 2 3 4; do
    [ "$(curl -fsS "http://127.0.0.$i:7180/v1/cluster" | grep -o '"status":"valid"' | wc -l)" -eq 3 ] || return 1
  done
}
wait_until "the 3-node Cairn ring" 60 three_valid
if [ "$resp" = 1 ]; then
  for i in 1 2; do wait_until "Cairn's Redis port on 127.0.0.$i" 30 redis-cli -h "127.0.0.$i" -p 7179 ping; done
fi

# --- Preload: every key once ----------------------------------------------------------------
value=$(head -c "$value_bytes" /dev/zero | tr '\0' v)
# curl reads one request per key from a config that fill_requests writes ("next" starts each
# afresh, so each carries its own options), sends 16 at a time, and prints each status.
fill_requests() {  # fill_requests METHOD URL_PREFIX BODY_KIND: BODY_KIND raw (Cairn) or etcd (the JSON gateway)
  python3 - "$@" "$keys" "$value" <<'PY'
import base64, sys
method, prefix, kind, keys, value = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
for i in range(keys):
    if i > 0:
        print("next")
    key = "key:%012d" % i
    if kind == "raw":
        print('url = "%s%s"' % (prefix, key))
        print('header = "Content-Type: application/octet-stream"')
        print('data-binary = "%s"' % value)
    else:
        encoded = lambda text: base64.b64encode(text.encode()).decode()
        print('url = "%s"' % prefix)
        print('header = "Content-Type: application/json"')
        print('data = "{\\"key\\":\\"%s\\",\\"value\\":\\"%s\\"}"' % (encoded(key), encoded(value)))
    print('request = "%s"' % method)
    print('output = "/dev/null"')
    print('silent')
    print('write-out = "%{http_code}\\n"')
PY
}
fill() {  # fill WHAT METHOD URL_PREFIX BODY_KIND
  local what=$1; shift
  fill_requests "$@" >"$work/fill.curl"
  local bad
  bad=$(curl --parallel --parallel-max 16 -K "$work/fill.curl" 2>/dev/null | grep -cv '^20[0-9]$' || true)
  [ "$bad" -eq 0 ] || die "preloading $what: $bad of $keys writes failed"
}
fill_redis() {  # SET of every key, pipelined in the Redis protocol
  awk -v n="$keys" -v v="$value" 'BEGIN {
    for (i = 0; i < n; i++) { k = sprintf("key:%012d", i)
      printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v } }' \
    | redis-cli -h 127.0.0.23 -p 6379 --pipe >"$work/redis-fill.log" 2>&1 || die "preloading Redis failed; see $work/redis-fill.log"
  grep -q "errors: 0" "$work/redis-fill.log" || die "preloading Redis: errors; see $work/redis-fill.log"
}
log "writing $keys keys of $value_bytes bytes into each system…"
fill "Cairn (1 node)" PUT http://127.0.0.1:7180/v1/keys/ raw
fill "Cairn (3 nodes)" PUT http://127.0.0.2:7180/v1/keys/ raw
fill etcd POST http://127.0.0.20:2379/v3/kv/put etcd
fill_redis

# --- Runs -----------------------------------------------------------------------------------
clock_ticks=$(getconf CLK_TCK)
cpu_ticks() {  # the utime + stime of the given pids, in clock ticks
  local pid total=0 stat fields
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat") || die "process $pid is gone; see $work/*.log"
    read -ra fields <<<"${stat##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# The systems: id, label, client, target, server pids.
targets=(etcd3 redis cairn1-http cairn3-http redis-p16)
[ "$resp" = 1 ] && targets+=(cairn1-resp cairn3-resp cairn1-resp-p16)
label_of() {
  case "$1" in
    etcd3) echo "etcd, 3 members (JSON gateway)" ;;
    redis) echo "Redis, AOF everysec" ;;
    redis-p16) echo "Redis, AOF everysec, pipelined 16" ;;
    cairn1-resp-p16) echo "Cairn, 1 node, Redis protocol, pipelined 16" ;;
    cairn1-http) echo "Cairn, 1 node, HTTP" ;;
    cairn3-http) echo "Cairn, 3 nodes, HTTP" ;;
    cairn1-resp) echo "Cairn, 1 node, Redis protocol" ;;
    cairn3-resp) echo "Cairn, 3 nodes, Redis protocol" ;;
  esac
}
pids_of() {
  case "$1" in
    etcd3) echo "${pid_of_server[etcd1]} ${pid_of_server[etcd2]} ${pid_of_server[etcd3]}" ;;
    redis|redis-p16) echo "${pid_of_server[redis]}" ;;
    cairn1-*) echo "${pid_of_server[cairn1]}" ;;
    cairn3-*) echo "${pid_of_server[cairn2]} ${pid_of_server[cairn3]} ${pid_of_server[cairn4]}" ;;
  esac
}

# wrk's latency ("850.00us", "1.20ms", "2.00s") in milliseconds.
to_ms() { awk -v t="$1" 'BEGIN { v = t + 0; if (t ~ /us$/) v /= 1000; else if (t ~ /[0-9]s$/ && t !~ /ms$/) v *= 1000; printf "%.3f", v }'; }

# Each run prints: requests ops_per_second p50_ms p99_ms errors
run_wrk() {  # run_wrk SCRIPT URL OP
  local out
  out=$(wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency -s "Scripts/wrk/$1" "$2" -- "$3" "$keys" "$value_bytes")
  echo "$out" >>"$work/runs.log"
  local requests ops p50 p99 errors
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  ops=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  errors=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
  echo "$requests $ops $p50 $p99 $errors"
}
declare -A resp_requests
run_redis_benchmark() {  # run_redis_benchmark HOST PORT OP REQUESTS [PIPELINE]
  local test="get" out
  if [ "$3" = put ]; then test="set"; fi
  out=$(redis-benchmark -h "$1" -p "$2" -t "$test" -n "$4" -c "$connections" -d "$value_bytes" -r "$keys" -P "${5:-1}" --csv 2>"$work/rb.err")
  { echo "$out"; cat "$work/rb.err"; } >>"$work/runs.log"
  local errors
  errors=$(grep -c "Error from server" "$work/rb.err" || true)
  # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  awk -F'","' -v n="$4" -v e="$errors" 'NR == 2 { print n, $2, $5, $7, e }' <<<"$out"
}
# redis-benchmark counts requests, not seconds: one short run measures each target's rate, and
# its runs then ask for about --duration seconds' worth.
calibrate() {  # calibrate ID HOST PORT [PIPELINE]
  local op rate
  for op in put get; do
    rate=$(run_redis_benchmark "$2" "$3" "$op" 2000 "${4:-1}" | awk '{ printf "%d", $2 }')
    resp_requests[$1-$op]=$(( rate * duration > 1000 ? rate * duration : 1000 ))
  done
}
calibrate redis 127.0.0.23 6379
calibrate redis-p16 127.0.0.23 6379 16
if [ "$resp" = 1 ]; then
  calibrate cairn1-resp 127.0.0.1 7179; calibrate cairn3-resp 127.0.0.2 7179; calibrate cairn1-resp-p16 127.0.0.1 7179 16
fi

run() {  # run ID OP: one run; prints requests ops p50 p99 errors
  case "$1" in
    etcd3) run_wrk etcd.lua http://127.0.0.20:2379 "$2" ;;
    redis) run_redis_benchmark 127.0.0.23 6379 "$2" "${resp_requests[redis-$2]}" ;;
    redis-p16) run_redis_benchmark 127.0.0.23 6379 "$2" "${resp_requests[redis-p16-$2]}" 16 ;;
    cairn1-resp-p16) run_redis_benchmark 127.0.0.1 7179 "$2" "${resp_requests[cairn1-resp-p16-$2]}" 16 ;;
    cairn1-http) run_wrk cairn.lua http://127.0.0.1:7180 "$2" ;;
    cairn3-http) run_wrk cairn.lua http://127.0.0.2:7180 "$2" ;;
    cairn1-resp) run_redis_benchmark 127.0.0.1 7179 "$2" "${resp_requests[cairn1-resp-$2]}" ;;
    cairn3-resp) run_redis_benchmark 127.0.0.2 7179 "$2" "${resp_requests[cairn3-resp-$2]}" ;;
  esac
}

# Idle: every system started and loaded, nothing asked of it; CPU over the same window for all.
idle_seconds=$([ "$quick" = 1 ] && echo 3 || echo 20)
log "measuring idle CPU for $idle_seconds s…"
declare -A idle_before idle_percent
idle_targets=(etcd3 redis cairn1-http cairn3-http)
# shellcheck disable=SC2046
for target in "${idle_targets[@]}"; do idle_before[$target]=$(cpu_ticks $(pids_of "$target")); done
sleep "$idle_seconds"
for target in "${idle_targets[@]}"; do
  # shellcheck disable=SC2046
  idle_percent[$target]=$(awk -v t=$(($(cpu_ticks $(pids_of "$target")) - idle_before[$target])) -v hz="$clock_ticks" -v s="$idle_seconds" \
    'BEGIN { printf "%.2f", t / hz / s * 100 }')
  log "idle $(label_of "$target"): ${idle_percent[$target]}% of one core"
done

results=$work/results.tsv
: >"$results"
started=$(date +%s)
for rep in $(seq 1 "$reps"); do
  for target in "${targets[@]}"; do
    for op in put get; do
      # shellcheck disable=SC2046
      before=$(cpu_ticks $(pids_of "$target"))
      read -r requests ops p50 p99 errors <<<"$(run "$target" "$op")"
      [ -n "$errors" ] || die "the $op run against $(label_of "$target") printed no result; see $work/runs.log"
      # shellcheck disable=SC2046
      after=$(cpu_ticks $(pids_of "$target"))
      cpu=$(awk -v t=$((after - before)) -v hz="$clock_ticks" -v n="$requests" 'BEGIN { printf "%.1f", (n > 0 ? t * 1000 / hz / (n / 1000) : 0) }')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$target" "$op" "$ops" "$p50" "$p99" "$cpu" "$errors" >>"$results"
      log "rep $rep/$reps $(label_of "$target") $op: $ops ops/s, p50 $p50 ms, p99 $p99 ms, $cpu CPU ms per 1,000 requests, $errors errors"
    done
  done
done
elapsed=$(($(date +%s) - started))

# --- Tail: open loop at half the peak -------------------------------------------------------
# The 3-node Cairn at half the median closed-loop rate just measured, each operation due at
# its time whether or not earlier ones were answered (so a stall shows in the latency of every
# operation due during it): p50, p99.9 and their ratio, for puts and gets.
tails=$work/tails.tsv
: >"$tails"
for op in put get; do
  peak=$(awk -F'\t' -v op="$op" '$2 == "cairn3-http" && $3 == op { print $4 }' "$results" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  rate=$(awk -v p="$peak" 'BEGIN { r = int(p / 2); print (r < 1 ? 1 : r) }')
  "$cairn" bench load --workload "$op" --keys "$keys" --value-bytes "$value_bytes" --concurrency 256 --rate "$rate" \
    --duration "$duration" --nodes 127.0.0.2:7180,127.0.0.3:7180,127.0.0.4:7180 --quiet --json >"$work/tail-$op.json" \
    2>>"$work/runs.log" || die "the open-loop $op run failed; see $work/runs.log"
  python3 - "$work/tail-$op.json" "$op" "$rate" >>"$tails" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
latency = report["latency"]
print("\t".join([sys.argv[2], sys.argv[3], "%.0f" % report["ops_per_second"], "%.3f" % latency["p50_ms"],
                  "%.3f" % latency["p99_ms"], "%.3f" % latency["p99_9_ms"], "%.3f" % latency["max_ms"],
                  "%.1f" % (latency["p99_9_ms"] / latency["p50_ms"] if latency["p50_ms"] > 0 else 0)]))
PY
  log "tail $op at $rate ops/s: $(tail -1 "$tails")"
done

# --- Report ---------------------------------------------------------------------------------
# Medians per system and operation: ID OP OPS P50 P99 CPU ERRORS RUNS
medians=$(awk -F'\t' '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { k = $2 " " $3; if (!(k in seen)) { seen[k] = 1; order[++count] = k }
    ops[k] = ops[k] " " $4; p50[k] = p50[k] " " $5; p99[k] = p99[k] " " $6; cpu[k] = cpu[k] " " $7; err[k] += $8; runs[k]++ }
  END { for (i = 1; i <= count; i++) { k = order[i]
    printf "%s %.0f %.3f %.3f %.1f %d %d\n", k, median(ops[k]), median(p50[k]), median(p99[k]), median(cpu[k]), err[k], runs[k] } }' "$results")

grouped() { awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'; }
field() { awk -v id="$1" -v op="$2" -v f="$3" '$1 == id && $2 == op { print $f }' <<<"$medians"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "–"; else printf "%.2f×", a / b }'; }

table() {
  echo "| system | op | ops/s | p50 ms | p99 ms | server CPU ms per 1,000 requests | errors | runs |"
  echo "|---|---|--:|--:|--:|--:|--:|--:|"
  local id op
  while read -r id op ops p50 p99 cpu errors runs; do
    echo "| $(label_of "$id") | $op | $(grouped "$ops") | $p50 | $p99 | $cpu | $errors | $runs |"
  done <<<"$medians"
  echo
  echo "| ratio (medians) | op | ops/s | p50 | p99 | CPU per request |"
  echo "|---|---|--:|--:|--:|--:|"
  local pairs=("cairn3-http etcd3" "cairn1-http redis")
  local idle_etcd=${idle_percent[etcd3]} idle_cairn=${idle_percent[cairn3-http]}
  [ "$resp" = 1 ] && pairs+=("cairn1-resp redis" "cairn3-resp redis" "cairn1-resp-p16 redis-p16")
  local pair a b
  for pair in "${pairs[@]}"; do
    read -r a b <<<"$pair"
    for op in put get; do
      echo "| $(label_of "$a") ÷ $(label_of "$b") | $op | $(ratio "$(field "$a" "$op" 3)" "$(field "$b" "$op" 3)") |" \
        "$(ratio "$(field "$a" "$op" 4)" "$(field "$b" "$op" 4)") | $(ratio "$(field "$a" "$op" 5)" "$(field "$b" "$op" 5)") |" \
        "$(ratio "$(field "$a" "$op" 6)" "$(field "$b" "$op" 6)") |"
    done
  done
  echo
  echo "Idle (started and loaded, no requests; $idle_seconds s, the same window for all): CPU in % of one core, summed over each system's processes."
  echo
  echo "| system | idle CPU |"
  echo "|---|--:|"
  local target
  for target in "${idle_targets[@]}"; do echo "| $(label_of "$target" | sed 's/, HTTP//; s/ (JSON gateway)//') | ${idle_percent[$target]}% |"; done
  echo "| Cairn, 3 nodes ÷ etcd, 3 members | $(ratio "$idle_cairn" "$idle_etcd") |"
  echo
  echo "Tail: Cairn, 3 nodes, open loop (\`cairn bench load --rate\`, 256 workers over the three nodes) at half the median closed-loop rate above; latency from each operation's due time."
  echo
  echo "| op | target ops/s | achieved ops/s | p50 ms | p99 ms | p99.9 ms | max ms | p99.9 ÷ p50 |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|"
  local rate achieved p50 p99 p999 max factor
  while IFS=$'\t' read -r op rate achieved p50 p99 p999 max factor; do
    echo "| $op | $(grouped "$rate") | $(grouped "$achieved") | $p50 | $p99 | $p999 | $max | ${factor}× |"
  done <"$tails"
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=""
if git status --porcelain --untracked-files=no 2>/dev/null | grep -q .; then dirty=" (with uncommitted changes)"; fi
report=$(cat <<EOF
$(date -u +%Y-%m-%d), $mode mode ($reps repetition(s) of ${duration} s per system and operation, $keys keys, interleaved; $elapsed s of runs),
Cairn at commit $commit$dirty. Machine: \`nproc\` = $(nproc), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo),
$(free -g | awk '/^Mem:/ { print $2 }') GiB RAM; $(redis-server --version | awk '{ print $1, $2, $3 }'), etcd $(etcd --version | awk '/etcd Version/ { print $3 }'),
$(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }'), $(redis-benchmark --version 2>/dev/null | awk '{ print "redis-benchmark", $2 }' || echo redis-benchmark).
The Redis protocol rows are there only when cairnd has \`--resp\`.

$(table)

Commands (\`OP\` is \`put\` or \`get\`; redis-benchmark's \`-t\` is \`set\` or \`get\`, and its \`-n\` about ${duration} s of the target's rate, measured first):

\`\`\`
./Scripts/bench-compare.sh$([ "$quick" = 1 ] && echo " --quick")$([ "$reps" != 3 ] && [ "$quick" = 0 ] && echo " --reps $reps")$([ "$duration" != 10 ] && [ "$quick" = 0 ] && echo " --duration $duration")$([ "$connections" != 16 ] && echo " --connections $connections") --write-docs
wrk -t$wrk_threads -c$connections -d${duration}s --latency -s Scripts/wrk/etcd.lua http://127.0.0.20:2379 -- OP $keys $value_bytes
wrk -t$wrk_threads -c$connections -d${duration}s --latency -s Scripts/wrk/cairn.lua http://127.0.0.1:7180 -- OP $keys $value_bytes   # and 127.0.0.2
redis-benchmark -h 127.0.0.23 -p 6379 -t set -n N -c $connections -d $value_bytes -r $keys --csv
redis-benchmark -h 127.0.0.1 -p 7179 -t set -n N -c $connections -d $value_bytes -r $keys --csv   # and 127.0.0.2; and -P 16
cairn bench load --workload OP --keys $keys --value-bytes $value_bytes --concurrency 256 --rate PEAK/2 --duration $duration --nodes 127.0.0.2:7180,127.0.0.3:7180,127.0.0.4:7180 --json
\`\`\`
EOF
)
echo "$report"

if [ "$write_docs" = 1 ]; then
  docs=docs/benchmarks.md
  if ! grep -q '<!-- bench-compare:begin -->' "$docs" || ! grep -q '<!-- bench-compare:end -->' "$docs"; then
    die "$docs has no <!-- bench-compare:begin --> … <!-- bench-compare:end --> section to write into"
  fi
  REPORT="$report" python3 - "$docs" <<'PY'
import os, sys
path = sys.argv[1]
text = open(path).read()
begin, end = "<!-- bench-compare:begin -->", "<!-- bench-compare:end -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(path, "w").write(head + begin + "\n" + os.environ["REPORT"] + "\n" + end + tail)
PY
  log "wrote the results into $docs"
fi
failed=0
