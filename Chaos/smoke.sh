#!/usr/bin/env bash
# A short run of every fault against a fresh 5-node chaos cluster (docs/reliability.md).
#
#   sudo Chaos/smoke.sh
#
# For each fault: apply it, check that it took effect (the failure detector of a node on the
# other side reports the victim unreachable, the process is stopped, the disk is full, …), PUT
# unique keys through the nodes while it lasts (curl bound to 127.0.0.100), undo it and check
# the cluster recovers. Join and leave run under a background writer. At the end, after
# Chaos/heal.sh and convergence, every PUT that was acknowledged must read back (R=2) with its
# value. Prints each check and `N passed, M failed`; exits 1 when any check failed.
# Whatever happens (failure, Ctrl-C), the exit trap heals every fault and stops the cluster
# (CHAOS_KEEP=1: leaves it running). Logs and the list of acknowledged keys stay in chaos-data/.
# Takes about three minutes.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root "smoke.sh"

passed=0; failed=0
acked=$dir/smoke-acked.tsv
refused=$dir/smoke-refused.tsv
loader_pid=""
started=$(date +%s)

pass() { passed=$((passed + 1)); echo "  ok    $*"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $*"; }
check() {
  local what=$1; shift
  if "$@"; then pass "$what"; else
    fail "$what"
    if [ "${1:-}" = wait_converged ] && [ -n "$not_converged" ]; then echo "        last seen: $not_converged"; fi
  fi
}
phase() { echo "== $* ($(( $(date +%s) - started )) s)"; }

finish() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$loader_pid" ] && kill "$loader_pid" 2>/dev/null
  ./Chaos/heal.sh --quiet --no-restart || true
  if [ "${CHAOS_KEEP:-}" != 1 ]; then ./Chaos/cluster.sh down >/dev/null 2>&1 || true; fi
  if [ "$rc" -ne 0 ] && [ $((passed + failed)) -eq 0 ]; then echo "smoke: stopped before any check (exit $rc)"; fi
  exit "$rc"
}
trap finish EXIT
trap 'echo "smoke: interrupted"; exit 130' INT TERM

# PUT key $1 = value $2 through node $3; on 200 the key goes to the acknowledged list.
put() {
  local out code
  out=$(ccurl -w '\n%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "$2" "http://$(http_of "$3")/v1/keys/$1" 2>&1) || true
  code=${out##*$'\n'}
  if [ "$code" = 200 ]; then printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$acked"; return 0; fi
  printf '%s\tnode %s\t%s\n' "$1" "$3" "$(tr '\n' ' ' <<<"$out")" >>"$refused"
  last_refusal="$1 through node $3: $(tr '\n' ' ' <<<"$out")"
  return 1
}

# Writes $2 unique keys for phase $1 round-robin through the nodes listed in $3; sets $ok/$tried.
writes() {
  local name=$1 count=$2 via=($3) n node
  ok=0; tried=0
  for n in $(seq 1 "$count"); do
    node=${via[$(( (n - 1) % ${#via[@]} ))]}
    tried=$((tried + 1))
    put "smoke-$name-$n" "$name-$n-$RANDOM$RANDOM" "$node" && ok=$((ok + 1))
  done
  return 0
}
all_acked() { [ "$ok" -eq "$tried" ] || { echo "        last refused: $last_refusal"; return 1; }; }
echo_writes() { echo "        $1: $ok of $tried PUTs acknowledged"; }

nft_dropped() { nft list table inet "$nft_table" 2>/dev/null | grep -o 'packets [0-9]*' | awk '{s += $2} END {exit !(s > 0)}'; }
health_down() { ! ccurl -o /dev/null --max-time 2 "http://$(http_of "$1")/health" 2>/dev/null; }
health_up() { ccurl -f -o /dev/null --max-time 3 "http://$(http_of "$1")/health" 2>/dev/null; }

# Node $1's wall clock as its latest log line shows it, minus the real one, in seconds.
log_skew() {
  local stamp
  stamp=$(grep -oE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9]{4}' "$dir/node$1.log" | tail -1)
  [ -n "$stamp" ] || { echo 0; return; }
  echo $(( $(date -d "$stamp" +%s) - $(date +%s) ))
}
near() { local v=$1 want=$2 tol=$3; [ $(( v > want ? v - want : want - v )) -le "$tol" ]; }

phase "setup: a fresh 5-node cluster (N=3, R=W=2) on 127.0.0.1-5, ports $internode_port/$http_port"
./Chaos/cluster.sh up 5
: >"$acked"; : >"$refused"
writes baseline 20 "1 2 3 4 5"; check "baseline: all 20 PUTs acknowledged" all_acked

phase "kill -9 node 3, then restart it"
./Chaos/cluster.sh kill 3
check "node 3 no longer answers" health_down 3
check "nodes 1, 2, 4, 5 report node 3 unreachable within 15 s" wait_all_see "1 2 4 5" 3 15
writes kill 20 "1 2 4 5"; check "PUTs through the other nodes all acknowledged ($ok/$tried)" all_acked
./Chaos/cluster.sh restart 3
check "after restart node 1 reports node 3 reachable within 20 s" wait_seen 3 1 20 reachable

phase "pause node 4 (SIGSTOP) past the failure detector, then resume"
./Chaos/cluster.sh pause 4
check "node 4's process is stopped (state T)" paused 4
check "nodes 1, 2, 3, 5 report node 4 unreachable within 15 s" wait_all_see "1 2 3 5" 4 15
writes pause 20 "1 2 3 5"; check "PUTs through the other nodes all acknowledged ($ok/$tried)" all_acked
./Chaos/cluster.sh resume 4
check "after SIGCONT node 1 reports node 4 reachable within 20 s" wait_seen 4 1 20 reachable

phase "isolate node 3 (nft)"
./Chaos/partition.sh isolate 3
check "nodes 1, 2, 4, 5 report node 3 unreachable within 15 s" wait_all_see "1 2 4 5" 3 15
check "node 3 reports every other node unreachable" wait_all_see 3 "1 2 4 5" 15
check "the client (127.0.0.100) still reaches node 3" health_up 3
check "a request from node 1's address to node 3's HTTP port is dropped" \
  bash -c "! curl -sS -o /dev/null --interface 127.0.0.1 --max-time 2 http://$(http_of 3)/health 2>/dev/null"
writes isolate 20 "1 2 4 5"; check "PUTs through the majority side all acknowledged ($ok/$tried)" all_acked
writes isolate-minority 4 "3"; echo_writes "through isolated node 3" isolate-minority
check "the rules dropped packets" nft_dropped
./Chaos/partition.sh heal
check "after heal node 1 reports node 3 reachable within 20 s" wait_seen 3 1 20 reachable

phase "split {1 2} | {3 4 5}"
./Chaos/partition.sh split "1 2" "3 4 5"
check "nodes 1, 2 report nodes 3, 4, 5 unreachable within 15 s" wait_all_see "1 2" "3 4 5" 15
check "nodes 3, 4, 5 report nodes 1, 2 unreachable within 15 s" wait_all_see "3 4 5" "1 2" 15
sides_intact() { wait_all_see "1 2" "1 2" 5 reachable && wait_all_see "3 4 5" "3 4 5" 5 reachable; }
check "each side still reports its own nodes reachable" sides_intact
writes split-majority 20 "3 4 5"; check "PUTs through the majority {3 4 5} all acknowledged ($ok/$tried)" all_acked
writes split-minority 10 "1 2"; echo_writes "through the minority {1 2} (sloppy quorum may take them)"
./Chaos/partition.sh heal
check "after heal the cluster converges within 30 s" wait_converged 30

phase "bridge {1 2} | {4 5}, node 3 talks to both"
./Chaos/partition.sh bridge "1 2" 3 "4 5"
halves_cut() { wait_all_see "1 2" "4 5" 15 && wait_all_see "4 5" "1 2" 15; }
check "nodes 1, 2 and nodes 4, 5 report each other unreachable within 15 s" halves_cut
bridge_intact() { wait_all_see 3 "1 2 4 5" 5 reachable && wait_all_see "1 2 4 5" 3 5 reachable; }
check "node 3 and every other node still report each other reachable" bridge_intact
writes bridge 20 "1 2 3 4 5"; echo_writes "through every node"
check "some PUTs acknowledged during the bridge" test "$ok" -gt 0
./Chaos/partition.sh heal
check "after heal the cluster converges within 30 s" wait_converged 30

phase "one-way: packets from node 1 to node 2 dropped"
./Chaos/partition.sh oneway 1 2
check "node 2 reports node 1 unreachable within 15 s" wait_seen 1 2 15 unreachable
check "node 3 still reports node 1 reachable" wait_seen 1 3 5 reachable
writes oneway 20 "3 4 5"; check "PUTs through nodes 3-5 all acknowledged ($ok/$tried)" all_acked
check "the rules dropped packets" nft_dropped
./Chaos/partition.sh heal
check "after heal the cluster converges within 30 s" wait_converged 30

phase "lossy: 30 % of node 2's packets dropped"
./Chaos/partition.sh lossy 2 30
writes lossy 20 "1 2 3 4 5"; echo_writes "through every node"
check "most PUTs acknowledged despite the loss (at least 15 of 20: $ok)" test "$ok" -ge 15
check "the rules dropped packets" nft_dropped
./Chaos/partition.sh heal
check "after heal the cluster converges within 30 s" wait_converged 30

phase "clock skew: node 5's wall clock 120 s ahead (libfaketime)"
./Chaos/cluster.sh restart 5 --skew 120
check "node 5 runs under libfaketime" grep -q 'FAKETIME=+120' "/proc/$(pid_of 5)/environ"
check "node 5's log stamps run about 120 s ahead ($(log_skew 5) s)" near "$(log_skew 5)" 120 10
check "the cluster converges with the skewed node within 30 s" wait_converged 30
writes skew 20 "1 2 3 4 5"; check "PUTs through every node all acknowledged ($ok/$tried)" all_acked
./Chaos/heal.sh --quiet
check "heal.sh restarted node 5 on the real clock" bash -c "! grep -q FAKETIME /proc/$(pid_of 5)/environ"
check "node 5's log stamps are back on the real clock ($(log_skew 5) s)" near "$(log_skew 5)" 0 10
check "the cluster converges within 30 s" wait_converged 30

phase "full disk on node 4 (tmpfs + ballast)"
./Chaos/disk.sh full 4
check "node 4's data file system is 100 % used" \
  test "$(df --output=avail "$dir/node4" | tail -1 | tr -d ' ')" -eq 0
writes disk 20 "1 2 3 5"; echo_writes "through nodes 1-3 and 5"
check "some PUTs acknowledged while node 4's disk is full" test "$ok" -gt 0
check "node 4 survives its full disk (still running)" running 4
check "node 4 reports the full disk in its log" grep -q 'No space left on device' "$dir/node4.log"
./Chaos/disk.sh undo 4
check "after undo node 4's data is back on the real disk" bash -c "! findmnt -rn '$dir/node4' >/dev/null"
check "after undo the cluster converges within 30 s" wait_converged 30

phase "wipe node 2 (data deleted, back under a new identity, old one removed)"
old=$(node_id 2)
./Chaos/cluster.sh wipe 2
check "node 2 came back under a new identity" test "$(node_id 2)" != "$old"
check "the cluster converges with the new node 2 within 60 s" wait_converged 60
writes wipe 20 "1 2 3 4 5"; check "PUTs through every node all acknowledged ($ok/$tried)" all_acked

phase "join node 6 and leave it again, under a writer"
loader() {
  local n=0
  while :; do
    n=$((n + 1))
    put "smoke-load-$n" "load-$n-$RANDOM" $(( n % 5 + 1 )) || true
    sleep 0.05
  done
}
loader & loader_pid=$!
sleep 2
check "node 6 joins and the cluster converges" ./Chaos/cluster.sh join 6
sleep 3
check "node 6 leaves (hands off, reaches 'left')" ./Chaos/cluster.sh leave 6
sleep 2
kill "$loader_pid" 2>/dev/null; wait "$loader_pid" 2>/dev/null || true; loader_pid=""
echo "        the writer's acknowledged PUTs: $(grep -c '^smoke-load-' "$acked")"

phase "heal everything, converge, read back every acknowledged PUT"
./Chaos/heal.sh --quiet
check "no chaos nft table left" bash -c "! nft list table inet $nft_table >/dev/null 2>&1"
check "no chaos tmpfs left" test -z "$(chaos_mounts)"
check "the cluster converges and settles within 120 s" wait_converged 120 --settled
total=0; missing=0; wrong=0
while IFS=$'\t' read -r key value _; do
  total=$((total + 1))
  node=$(( total % 5 + 1 ))
  got=$(ccurl -H 'Accept: application/octet-stream' -w '\n%{http_code}' "http://$(http_of "$node")/v1/keys/$key" 2>/dev/null) || got=$'\n000'
  code=${got##*$'\n'}; body=${got%$'\n'*}
  if [ "$code" = 404 ]; then missing=$((missing + 1)); echo "        lost: $key (acknowledged through node $(cut -f3 <<<"$(grep -m1 "^$key	" "$acked")"))"
  elif [ "$code" != 200 ] || [ "$body" != "$value" ]; then wrong=$((wrong + 1)); echo "        unreadable or wrong: $key via node $node: HTTP $code"
  fi
done <"$acked"
check "every acknowledged PUT reads back with its value ($total acknowledged, $missing lost, $wrong unreadable or wrong)" \
  test $((missing + wrong)) -eq 0 -a "$total" -ge 200

echo "smoke: $(( $(date +%s) - started )) s; logs and acknowledged keys in $dir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
