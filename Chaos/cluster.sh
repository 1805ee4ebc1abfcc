#!/usr/bin/env bash
# A chaos cluster, and the process faults on its nodes (docs/reliability.md).
# Node i: 127.0.0.i, internode :17070, HTTP :17080, cluster "chaos", N=3 R=W=2, data and logs in
# chaos-data/ (CHAOS_DIR). Requests from the scripts leave from 127.0.0.100.
#
#   Chaos/cluster.sh up [K]             install, build, start K nodes (default 5) from empty data,
#                                       join them through node 1, wait for convergence
#   Chaos/cluster.sh down               SIGTERM every node (resumed first if paused); data stays
#   Chaos/cluster.sh clean              heal every fault, stop every node, delete chaos-data/
#   Chaos/cluster.sh status             each node's state (running, paused, killed, skew, disk)
#                                       and the cluster as the first running node sees it
#   Chaos/cluster.sh wait [S] [--settled]  wait up to S s (60) until the running nodes agree
#   Chaos/cluster.sh kill I             SIGKILL node I (its data stays)
#   Chaos/cluster.sh stop I             SIGTERM node I (a clean stop)
#   Chaos/cluster.sh start I [--skew S] start node I with its data; with --skew its wall clock
#                                       runs S seconds ahead (negative: behind), by libfaketime
#   Chaos/cluster.sh restart I [--skew S]  stop node I cleanly if it runs, then start it
#   Chaos/cluster.sh pause I [--for S]  SIGSTOP node I (with --for: SIGCONT after S s, or on Ctrl-C)
#   Chaos/cluster.sh resume I           SIGCONT node I
#   Chaos/cluster.sh wipe I [--keep-old]  SIGKILL node I, delete its data, start it empty: it joins
#                                       again under a new identity, and the old identity is removed
#                                       through another node (--keep-old: left as a down member)
#   Chaos/cluster.sh join I             set up and start a new node I that joins through the
#                                       running nodes, and wait for convergence
#   Chaos/cluster.sh leave I            node I leaves (asked through another node), hands its
#                                       partitions off, and is stopped once it has left
#
# Environment: CHAOS_DIR (./chaos-data), CHAOS_INTERNODE_PORT (17070), CHAOS_HTTP_PORT (17080),
# CHAOS_N/R/W (3/2/2), CHAOS_NODE_SETTINGS (extra CAIRN_* lines), CAIRN_BUILD (release|debug),
# CHAOS_NO_BUILD=1 (use the binaries as they are).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,32p' "$0"; exit 2; }

up() {
  local k=${1:-5}
  [[ $k =~ ^[1-9]$ ]] || die "K must be 1…9 (nodes use 127.0.0.1…127.0.0.K)"
  need_root "cluster.sh up"
  ./Chaos/setup.sh
  if [ "${CHAOS_NO_BUILD:-}" != 1 ]; then build_binaries; fi
  [ -z "$(running_nodes)" ] || die "a chaos cluster already runs in $dir; stop it first: $0 down (or clean)"
  if ss -Hltn "( sport = :$http_port or sport = :$internode_port )" | grep -q .; then
    die "ports $internode_port/$http_port are in use already (another chaos cluster?): $(ss -Hltnp "( sport = :$http_port or sport = :$internode_port )" | head -3)"
  fi
  ./Chaos/heal.sh --quiet --no-restart
  if [ -d "$dir" ]; then
    # Only ever delete a folder this script made.
    [ -z "$(ls -A "$dir")" ] || ls "$dir"/node*.env >/dev/null 2>&1 || die "$dir is not a chaos data folder; set CHAOS_DIR"
    rm -rf "$dir"
  fi
  mkdir -p "$dir"
  local i
  for i in $(seq 1 "$k"); do
    if [ "$i" -eq 1 ]; then write_env 1 ""; else write_env "$i" "$(internode_of 1)"; fi
    start_node "$i"
    wait_http "$i"
  done
  # Settled too (no handoff left), so a fault never lands on a cluster still forming.
  wait_converged 120 --settled || die "the ring did not converge on $k nodes within 120 s; see $dir/node*.log"
  note "$k nodes up: node i on 127.0.0.i (internode :$internode_port, HTTP :$http_port), data and logs in $dir"
}

down() {
  local i any=0
  for i in $(nodes); do
    if running "$i"; then stop_node "$i"; any=1; fi
    rm -f "$dir/node$i.pid"
  done
  [ $any -eq 1 ] && note "stopped" || note "nothing was running"
}

status() {
  local i state first=""
  [ -n "$(nodes)" ] || { note "no chaos cluster set up in $dir"; return; }
  for i in $(nodes); do
    if running "$i"; then
      if paused "$i"; then state="paused"; else state="running"; [ -n "$first" ] || first=$i; fi
      state+=" (pid $(pid_of "$i"))"
    elif [ -f "$dir/node$i.left" ]; then state="left"
    elif killed "$i"; then state="killed"
    else state="stopped"; fi
    [ -f "$dir/node$i.skew" ] && state+=", wall clock $(cat "$dir/node$i.skew") s"
    findmnt -rn "$dir/node$i" >/dev/null 2>&1 && state+=", data on a $(findmnt -rn -o SIZE "$dir/node$i") tmpfs ($(df --output=pcent "$dir/node$i" | tail -1 | tr -d ' ') used)"
    echo "node $i: $state  http://$(http_of "$i")  id $(node_id "$i")"
  done
  if nft_active; then echo "network: nft table inet $nft_table is active (Chaos/partition.sh show)"; else echo "network: no partition rules"; fi
  [ -n "$first" ] || return 0
  if [ -x "$bin/cairn" ]; then "$bin/cairn" cluster status --node "$(http_of "$first")" || true
  else status_json "$first"; echo; fi
}

# The first running, unpaused node other than $1.
other_node() {
  local i
  for i in $(running_nodes); do [ "$i" != "$1" ] && ! paused "$i" && { echo "$i"; return; }; done
  die "no other running node to ask"
}

skew_arg() {
  case "${1:-}" in
    "") echo "" ;;
    --skew) [ -n "${2:-}" ] || die "--skew takes seconds"; echo "$2" ;;
    *) die "unknown option $1" ;;
  esac
}

pause() {
  local i=$1; shift
  running "$i" || die "node $i is not running"
  kill -STOP "$(pid_of "$i")"
  note "node $i paused (SIGSTOP)"
  if [ "${1:-}" = --for ]; then
    [[ ${2:-} =~ ^[0-9]+$ ]] || die "--for takes whole seconds"
    trap 'kill -CONT "$(pid_of '"$i"')" 2>/dev/null; note "node '"$i"' resumed"' EXIT
    trap 'exit 130' INT TERM
    sleep "$2" & wait $!
  fi
}

wipe() {
  local i=$1 keep=${2:-} old seeds j via
  need_root "wipe"
  [ -f "$dir/node$i.env" ] || die "node $i was never set up"
  old=$(node_id "$i")
  kill_node "$i"
  findmnt -rn "$dir/node$i" >/dev/null 2>&1 && die "node $i's data is on a tmpfs; undo that first: Chaos/disk.sh undo $i"
  rm -rf "$dir/node$i"
  seeds=""
  for j in $(running_nodes); do [ "$j" != "$i" ] && seeds+="${seeds:+,}$(internode_of "$j")"; done
  [ -n "$seeds" ] || die "no running node to join through"
  write_env "$i" "$seeds"
  start_node "$i"
  wait_http "$i"
  note "node $i wiped: was ${old:-?}, now $(node_id "$i")"
  if [ "$keep" != --keep-old ] && [ -n "$old" ]; then
    via=$(other_node "$i")
    ccurl -f -X POST -H 'Content-Type: application/json' -d "{\"node\":\"$old\"}" \
      "http://$(http_of "$via")/v1/cluster/remove" >/dev/null \
      && note "old identity $old removed through node $via" \
      || note "could not remove old identity $old through node $via"
  fi
}

join() {
  local i=$1 seeds="" j
  [ -f "$dir/node$i.env" ] && running "$i" && die "node $i already runs"
  for j in $(running_nodes); do [ "$j" != "$i" ] && seeds+="${seeds:+,}$(internode_of "$j")"; done
  [ -n "$seeds" ] || die "no running node to join through"
  rm -rf "$dir/node$i" "$dir/node$i.left"
  write_env "$i" "$seeds"
  start_node "$i"
  wait_http "$i"
  wait_converged 120 || die "node $i joined but the ring did not converge within 120 s"
  note "node $i joined ($(node_id "$i"))"
}

leave() {
  local i=$1 via state deadline
  running "$i" || die "node $i is not running"
  via=$(other_node "$i")
  ccurl -f -X POST -H 'Content-Type: application/json' -d "{\"node\":\"$(internode_of "$i")\"}" \
    "http://$(http_of "$via")/v1/cluster/leave" >/dev/null || die "node $via refused node $i's leave"
  note "node $i leaving (asked through node $via); waiting for its handoff…"
  deadline=$(( $(date +%s) + ${CHAOS_LEAVE_TIMEOUT:-300} ))
  while :; do
    state=$(status_json "$via" 2>/dev/null | jq -r --arg a "$(internode_of "$i")" \
      '[.members[] | select(.address == $a) | .status] | last // "absent"' 2>/dev/null || true)
    [ "$state" = left ] && break
    [ "$(date +%s)" -le "$deadline" ] || die "node $i did not reach 'left' within ${CHAOS_LEAVE_TIMEOUT:-300} s (last: $state)"
    sleep 0.5
  done
  stop_node "$i"
  touch "$dir/node$i.left"
  note "node $i left and was stopped"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
  up) up "${1:-5}" ;;
  down) down ;;
  clean)
    ./Chaos/heal.sh --quiet --no-restart
    down
    if [ -d "$dir" ]; then
      [ -z "$(ls -A "$dir")" ] || ls "$dir"/node*.env >/dev/null 2>&1 || die "$dir is not a chaos data folder"
      rm -rf "$dir"
    fi
    note "removed $dir" ;;
  status) status ;;
  wait)
    limit=60; settled=""
    for a in "$@"; do case "$a" in --settled) settled=--settled ;; *) limit=$a ;; esac; done
    wait_converged "$limit" "$settled" || die "not converged within $limit s"
    note "converged${settled:+ and settled}" ;;
  kill) valid_node "${1:-}"; running "$1" || die "node $1 is not running"; kill_node "$1"; note "node $1 killed (SIGKILL)" ;;
  stop) valid_node "${1:-}"; stop_node "$1"; note "node $1 stopped (SIGTERM)" ;;
  start)
    valid_node "${1:-}"; i=$1; shift
    skew=$(skew_arg "$@"); start_node "$i" "$skew"; wait_http "$i"; note "node $i started${skew:+ (wall clock $skew s)}" ;;
  restart)
    valid_node "${1:-}"; i=$1; shift
    skew=$(skew_arg "$@"); stop_node "$i"; start_node "$i" "$skew"; wait_http "$i"; note "node $i restarted${skew:+ (wall clock $skew s)}" ;;
  pause) valid_node "${1:-}"; pause "$@" ;;
  resume) valid_node "${1:-}"; running "$1" || die "node $1 is not running"; kill -CONT "$(pid_of "$1")"; note "node $1 resumed (SIGCONT)" ;;
  wipe) valid_node "${1:-}"; wipe "$1" "${2:-}" ;;
  join) valid_node "${1:-}"; join "$1" ;;
  leave) valid_node "${1:-}"; leave "$1" ;;
  *) usage ;;
esac
