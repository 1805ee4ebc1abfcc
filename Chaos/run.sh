#!/usr/bin/env bash
# One chaos scenario against a fresh cluster of real cairnd processes (docs/reliability.md).
#
#   sudo Chaos/run.sh SCENARIO [--nodes K] [--time S] [--seed N] [--unsafe] [--keep]
#
# Starts K nodes (default 5; N=3, R=W=2, deleted and expired keys reaped after 5 s), runs the
# set, CAS-register, plain-overwrite and TTL/delete workloads (cairn-chaos workload: 2 clients
# each, bound to 127.0.0.100) for S seconds (default 30) while the scenario's faults come and
# go, heals everything, then checks (cairn-chaos check): every key's primaries converge (replica
# reads), no acknowledged write lost, nothing invented, nothing deleted or expired back, every
# CAS history linearizable, a scan lists exactly the keys with values. Prints operations
# attempted/acknowledged/failed/unknown per workload, each check, the time to converge, and
# `N passed, M failed`; exits 1 when a check failed.
# The run's files — history.tsv, faults.tsv, report.txt, timeline.svg — are in
# chaos-runs/SCENARIO-SEED/ (CHAOS_RUNS; kept after the cluster stops).
#
# Scenarios:
#   partition-majority   two nodes cut from three, then another two
#   partition-bridge     two halves that can only talk through the middle node
#   partition-oneway     packets from one node to another dropped, one way only
#   kill-restart         SIGKILL a node, restart it; three times, different nodes
#   pause                SIGSTOP a node past the failure detector, SIGCONT; twice
#   lossy                30 % of one node's packets dropped, each way
#   clock-skew           a node restarted with its wall clock 30 s ahead, another 20 s behind
#                        (also: clock-skew-ttl)
#   disk-full            a node's data on a full tmpfs for a while
#   wiped-node           a node's data deleted: it rejoins as a new node, the old one removed
#   join-leave           a sixth node joins under load, then another node leaves
#                        (also: join-leave-under-load)
#   flapping             a random fault every 3-6 s (isolate, pause, kill, lossy, one-way)
#   soak                 flapping for longer (default 120 s)
#
# --unsafe starts the nodes in the unsafe last-writer-wins mode (replicas replace instead of
# merging): the same checks must then fail (docs/reliability.md, "Checking the checkers").
# Whatever happens (failure, Ctrl-C) the exit trap heals every fault and stops the cluster
# (--keep: leaves it running).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,40p' "$0"; exit 2; }

scenario=${1:-}; [ -n "$scenario" ] || usage; shift
# The names issue 10 gives two of them.
case $scenario in
  clock-skew-ttl) scenario=clock-skew ;;
  join-leave-under-load) scenario=join-leave ;;
esac
k=5; time_s=""; seed=$((RANDOM % 1000 + 1)); keep=0; unsafe=0
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) k=$2; shift 2 ;;
    --time) time_s=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --unsafe) unsafe=1; shift ;;
    *) usage ;;
  esac
done
case $scenario in
  partition-majority|partition-bridge|partition-oneway|kill-restart|pause|lossy|clock-skew|disk-full|wiped-node|join-leave|flapping) : "${time_s:=30}" ;;
  soak) : "${time_s:=120}" ;;
  *) die "unknown scenario '$scenario' (see $0 with no arguments)" ;;
esac
[[ $k =~ ^[3-8]$ ]] || die "--nodes must be 3…8 (join-leave adds one more, up to 127.0.0.9)"
[[ $time_s =~ ^[0-9]+$ ]] && [ "$time_s" -ge 10 ] || die "--time must be at least 10 seconds"
need_root "run.sh"

suffix=""; unsafe_note=""
if [ "$unsafe" = 1 ]; then suffix=-unsafe; unsafe_note=", unsafe last-writer-wins"; fi
runs=${CHAOS_RUNS:-$chaos_root/chaos-runs}
out=$runs/$scenario-$seed$suffix
# Deleted and expired keys are reaped 5 s after every replica has seen them dead, so reaping
# runs during the faults and its checks (nothing deleted or expired comes back) are exercised.
export CHAOS_NODE_SETTINGS="${CHAOS_NODE_SETTINGS:+$CHAOS_NODE_SETTINGS }CAIRN_TOMBSTONE_GRACE=${CHAOS_TOMBSTONE_GRACE:-5}"
if [ "$unsafe" = 1 ]; then export CHAOS_NODE_SETTINGS="${CHAOS_NODE_SETTINGS:+$CHAOS_NODE_SETTINGS }CAIRN_UNSAFE_MODE=last-writer-wins"; fi
workload_pid=""
RANDOM=$seed

finish() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$workload_pid" ] && kill "$workload_pid" 2>/dev/null
  ./Chaos/heal.sh --quiet || true
  if [ "$keep" != 1 ]; then ./Chaos/cluster.sh down >/dev/null 2>&1 || true; fi
  exit "$rc"
}
trap finish EXIT
trap 'echo "run: interrupted"; exit 130' INT TERM

now_ms() { date +%s%3N; }
# A fault's interval for the timeline: fault_begin LABEL … fault_end.
fault_label=""; fault_start=""
fault_begin() { fault_label=$1; fault_start=$(now_ms); note "fault: $1"; }
fault_end() {
  [ -n "$fault_start" ] || return 0
  printf '%s\t%s\t%s\n' "$fault_start" "$(now_ms)" "$fault_label" >>"$out/faults.tsv"
  fault_start=""
}
# Runs one fault for $1 seconds: fault LABEL SECONDS DO-COMMAND UNDO-COMMAND
fault() {
  local label=$1 seconds=$2 apply=$3 undo=$4
  fault_begin "$label"
  eval "$apply" >/dev/null
  sleep "$seconds"
  eval "$undo" >/dev/null
  fault_end
}
pick() { local nodes=($(running_nodes)); echo "${nodes[$((RANDOM % ${#nodes[@]}))]}"; }
other_than() { local n; while n=$(pick); [ "$n" = "$1" ]; do :; done; echo "$n"; }

# The scenario's faults, spread over $time_s seconds (the workload runs meanwhile).
schedule() {
  local t=$time_s third=$((time_s / 3)) a b
  case $scenario in
    partition-majority)
      sleep 3; fault "split 1 2 | 3..$k" "$third" "./Chaos/partition.sh split '1 2'" "./Chaos/partition.sh heal"
      sleep 2; fault "split $((k - 1)) $k | rest" "$third" "./Chaos/partition.sh split '$((k - 1)) $k'" "./Chaos/partition.sh heal" ;;
    partition-bridge)
      sleep 3; fault "bridge through node $(( (k + 1) / 2 ))" $((t - 6)) "./Chaos/partition.sh bridge" "./Chaos/partition.sh heal" ;;
    partition-oneway)
      sleep 3; fault "one-way 1 -> 2" "$third" "./Chaos/partition.sh oneway 1 2" "./Chaos/partition.sh heal"
      sleep 2; fault "one-way 3 -> 1" "$third" "./Chaos/partition.sh oneway 3 1" "./Chaos/partition.sh heal" ;;
    kill-restart)
      for _ in 1 2 3; do
        sleep 2; a=$(pick)
        fault "kill -9 node $a" $((t / 4)) "./Chaos/cluster.sh kill $a" "./Chaos/cluster.sh restart $a"
      done ;;
    pause)
      for _ in 1 2; do
        sleep 3; a=$(pick)
        fault "SIGSTOP node $a" 8 "./Chaos/cluster.sh pause $a" "./Chaos/cluster.sh resume $a"
      done ;;
    lossy)
      sleep 3; a=$(pick); fault "30 % loss at node $a" $((t - 6)) "./Chaos/partition.sh lossy $a 30" "./Chaos/partition.sh heal" ;;
    clock-skew)
      sleep 2; a=$(pick); b=$(other_than "$a")
      fault "node $a clock +30 s" "$third" "./Chaos/cluster.sh restart $a --skew 30" "./Chaos/cluster.sh restart $a"
      fault "node $b clock -20 s" "$third" "./Chaos/cluster.sh restart $b --skew -20" "./Chaos/cluster.sh restart $b" ;;
    disk-full)
      sleep 3; a=$(pick); fault "node $a disk full" $((t - 8)) "./Chaos/disk.sh full $a" "./Chaos/disk.sh undo $a" ;;
    wiped-node)
      sleep 5; a=$(pick); fault_begin "node $a wiped, rejoins as a new node"
      ./Chaos/cluster.sh wipe "$a" >/dev/null; fault_end ;;
    join-leave)
      sleep 3; fault_begin "node $((k + 1)) joins"; ./Chaos/cluster.sh join $((k + 1)) >/dev/null; fault_end
      sleep 2; a=$(other_than 1); fault_begin "node $a leaves"; ./Chaos/cluster.sh leave "$a" >/dev/null; fault_end ;;
    flapping|soak)
      local end=$(( $(date +%s) + t - 8 ))
      while [ "$(date +%s)" -lt "$end" ]; do
        sleep $((3 + RANDOM % 4)); a=$(pick); b=$(other_than "$a")
        case $((RANDOM % 5)) in
          0) fault "isolate node $a" 4 "./Chaos/partition.sh isolate $a" "./Chaos/partition.sh heal" ;;
          1) fault "SIGSTOP node $a" 5 "./Chaos/cluster.sh pause $a" "./Chaos/cluster.sh resume $a" ;;
          2) fault "kill -9 node $a" 3 "./Chaos/cluster.sh kill $a" "./Chaos/cluster.sh restart $a" ;;
          3) fault "40 % loss at node $a" 4 "./Chaos/partition.sh lossy $a 40" "./Chaos/partition.sh heal" ;;
          4) fault "one-way $a -> $b" 4 "./Chaos/partition.sh oneway $a $b" "./Chaos/partition.sh heal" ;;
        esac
      done ;;
  esac
}

echo "== $scenario: $k nodes, ${time_s} s, seed $seed$unsafe_note"
./Chaos/cluster.sh up "$k"
if [ "${CHAOS_NO_BUILD:-}" != 1 ]; then swift build -c "$config" --product cairn-chaos >/dev/null; fi
chaos=$chaos_root/.build/$config/cairn-chaos
[ -x "$chaos" ] || die "no $chaos; build it: swift build -c $config --product cairn-chaos"
rm -rf "$out"; mkdir -p "$out"; : >"$out/faults.tsv"
node_list() { local i list=""; for i in $(seq 1 "$1"); do list+="${list:+,}$(http_of "$i")"; done; echo "$list"; }
nodes_now=$(node_list "$k")
"$chaos" workload --nodes "$nodes_now" --out "$out" --time "$time_s" --seed "$seed" --bind "$client_address" \
  >"$out/workload.log" 2>&1 &
workload_pid=$!
schedule
wait "$workload_pid" || die "the workload failed; see $out/workload.log"
workload_pid=""
note "healing"
./Chaos/heal.sh --quiet
wait_converged 120 --settled || note "the membership did not settle within 120 s: $not_converged"
# The nodes as they are now (a joined node answers too; a node that left answers 503 and is skipped).
serving_nodes() {
  local i list=""
  for i in $(seq 1 9); do
    if ccurl -o /dev/null -f --max-time 2 "http://$(http_of "$i")/health" 2>/dev/null; then list+="${list:+,}$(http_of "$i")"; fi
  done
  echo "$list"
}
nodes_now=$(serving_nodes)
# Unsafe nodes never converge (they replace rather than merge): no need to wait two minutes.
converge_timeout=${CHAOS_CONVERGE_TIMEOUT:-120}
# Expiries are blurred by the nodes' clock offsets: the skew scenario moves them by up to 30 s.
clock_tolerance=5000
if [ "$scenario" = clock-skew ]; then clock_tolerance=40000; fi
if [ "$unsafe" = 1 ]; then converge_timeout=${CHAOS_CONVERGE_TIMEOUT:-30}; fi
"$chaos" check --nodes "$nodes_now" --out "$out" --seed "$seed" --bind "$client_address" --converge-timeout "$converge_timeout" --clock-tolerance "$clock_tolerance" --title "$scenario (seed $seed, $k nodes, ${time_s} s$unsafe_note)"
