# Helpers for the chaos scripts (Chaos/*.sh); sourced, not run. See docs/reliability.md.
#
# A chaos cluster is its own cluster: node i listens on 127.0.0.i with internode port
# $CHAOS_INTERNODE_PORT (17070) and HTTP port $CHAOS_HTTP_PORT (17080), named "chaos", keeps
# its data in $CHAOS_DIR/node<i>/ (default ./chaos-data) and logs to $CHAOS_DIR/node<i>.log.
# Those ports are apart from Scripts/cluster.sh (7070/7080), from the multi-process tests
# (Tests/CairnNodeTests: 27000+k and 28000+k) and below the kernel's ephemeral range
# (32768-60999), so a chaos rule that names them never matches anyone else's connection.
#
# Every node's settings travel as CAIRN_* environment variables (written to
# $CHAOS_DIR/node<i>.env), never as flags, so a node started under libfaketime's LD_PRELOAD
# gets exactly the same settings as any other.
#
# Every request the scripts make leaves from $CHAOS_CLIENT (127.0.0.100), an address no node
# has: partition rules only name node addresses, so the scripts always reach every node.

set -euo pipefail
chaos_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$chaos_root"

dir=${CHAOS_DIR:-$chaos_root/chaos-data}
case "$dir" in /*) ;; *) dir=$chaos_root/$dir ;; esac
config=${CAIRN_BUILD:-release}
bin=$chaos_root/.build/$config
internode_port=${CHAOS_INTERNODE_PORT:-17070}
http_port=${CHAOS_HTTP_PORT:-17080}
client_address=${CHAOS_CLIENT:-127.0.0.100}
cluster_name=${CHAOS_CLUSTER_NAME:-chaos}
nft_table=cairn_chaos
log_prefix=chaos
curl_opts=(--interface "$client_address")

# shellcheck source=../Scripts/cluster-lib.sh
. "$chaos_root/Scripts/cluster-lib.sh"

note() { echo "$log_prefix: $*" >&2; }

need_root() { [ "$(id -u)" -eq 0 ] || die "$1 needs root (nft, mount, signals to every node); run it with sudo"; }

valid_node() { [[ ${1:-} =~ ^[1-9]$ ]] || die "node numbers are 1…9 (127.0.0.1…127.0.0.9), not '${1:-}'"; }

# The nodes this chaos cluster has set up (an env file each), in order.
nodes() {
  local f
  for f in "$dir"/node[1-9].env; do [ -f "$f" ] && { f=${f##*/node}; echo "${f%.env}"; }; done
  return 0
}

# Set-up nodes whose process runs (paused ones included), not left.
running_nodes() { local i; for i in $(nodes); do running "$i" && echo "$i"; done; return 0; }

paused() {
  local pid; pid=$(pid_of "$1")
  [ -n "$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = T ]
}

# A node "was killed" when its pid file is there but its process is not: heal.sh restarts it.
# `down` removes the pid files; a node that left gets a node<i>.left marker.
killed() { [ -f "$dir/node$1.pid" ] && ! running "$1" && [ ! -f "$dir/node$1.left" ]; }

ccurl() { curl "${curl_opts[@]}" -sS --max-time "${CHAOS_CURL_TIMEOUT:-5}" "$@"; }
http_of() { echo "127.0.0.$1:$http_port"; }
internode_of() { echo "127.0.0.$1:$internode_port"; }
status_json() { ccurl "http://$(http_of "$1")/v1/cluster"; }
node_id() { cat "$dir/node$1/node.id" 2>/dev/null || true; }

# Node $1 as node $2 sees it: "reachable", "unreachable" or "absent" (no such member);
# the member at node $1's address that is valid, or the last one listed.
seen_as() {
  local target=$1 viewer=$2 body
  body=$(status_json "$viewer" 2>/dev/null) || { echo "no-answer"; return; }
  jq -r --arg a "$(internode_of "$target")" '
    [.members[] | select(.address == $a)] as $m
    | if ($m | length) == 0 then "absent"
      else ([$m[] | select(.status == "valid")] | if length > 0 then .[0] else $m[-1] end)
           | if .self == true or .reachable == true then "reachable" else "unreachable" end
      end' <<<"$body"
}

# Waits up to $3 seconds (default 20) until node $2 sees node $1 as $4 (reachable|unreachable).
wait_seen() {
  local target=$1 viewer=$2 limit=${3:-20} want=${4:-reachable} deadline
  deadline=$(( $(date +%s) + limit ))
  while [ "$(date +%s)" -le "$deadline" ]; do
    [ "$(seen_as "$target" "$viewer")" = "$want" ] && return 0
    sleep 0.5
  done
  return 1
}

# Waits up to $3 seconds (default 20) until every node of group $1 sees every node of group $2
# as $4 (default unreachable; or reachable). Groups are node lists: "1 2".
wait_all_see() {
  local viewers=$1 targets=$2 limit=${3:-20} want=${4:-unreachable} deadline x y all
  deadline=$(( $(date +%s) + limit ))
  while [ "$(date +%s)" -le "$deadline" ]; do
    all=1
    for x in $viewers; do for y in $targets; do
      [ "$x" = "$y" ] && continue
      [ "$(seen_as "$y" "$x")" = "$want" ] || { all=0; break 2; }
    done; done
    [ $all -eq 1 ] && return 0
    sleep 0.5
  done
  return 1
}

# Converged: every running, unpaused node answers, sees every other one valid and reachable, and
# all agree on the ring version. With --settled also: no handoff transfer or pending partition.
# When not, $not_converged says why.
not_converged=""
converged() {
  local settled=${1:-} versions="" i j body
  local -a up=()
  for i in $(running_nodes); do paused "$i" || up+=("$i"); done
  [ ${#up[@]} -gt 0 ] || { not_converged="no node runs"; return 1; }
  for i in "${up[@]}"; do
    body=$(status_json "$i" 2>/dev/null) || { not_converged="node $i does not answer"; return 1; }
    for j in "${up[@]}"; do
      jq -e --arg a "$(internode_of "$j")" \
        'any(.members[]; .address == $a and .status == "valid" and (.self == true or .reachable == true))' \
        <<<"$body" >/dev/null || { not_converged="node $i does not see node $j valid and reachable"; return 1; }
    done
    if [ "$settled" = --settled ]; then
      jq -e '(.transfers | length) == 0 and (.pending_partitions | length) == 0' <<<"$body" >/dev/null || {
        not_converged="node $i: $(jq -c '{transfers: [.transfers[] | {partition, state, to}], pending_partitions}' <<<"$body")"
        return 1
      }
    fi
    versions+="$(jq -r '.ring.version' <<<"$body")"$'\n'
  done
  [ "$(sort -u <<<"$versions" | grep -c .)" -eq 1 ] || { not_converged="ring versions differ: $(sort -u <<<"$versions" | xargs)"; return 1; }
  not_converged=""
}

# Waits up to $1 seconds (default 60) for `converged $2`.
wait_converged() {
  local limit=${1:-60} deadline
  deadline=$(( $(date +%s) + limit ))
  while [ "$(date +%s)" -le "$deadline" ]; do
    converged "${2:-}" && return 0
    sleep 0.5
  done
  return 1
}

# The libfaketime library (Debian: libfaketime). The multi-threaded variant, since cairnd runs
# many threads.
faketime_lib() {
  local f
  for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
  die "libfaketime is not installed (Chaos/setup.sh installs it)"
}

# Writes node $1's settings: CAIRN_* lines, seeds $2 (internode addresses, comma-separated,
# may be empty). $CHAOS_NODE_SETTINGS adds more lines (e.g. "CAIRN_TOMBSTONE_GRACE=60").
write_env() {
  local i=$1 seeds=${2:-} s
  {
    echo "CAIRN_DATA=$dir/node$i"
    echo "CAIRN_LISTEN=$(internode_of "$i")"
    echo "CAIRN_HTTP=$(http_of "$i")"
    [ -n "$seeds" ] && echo "CAIRN_SEEDS=$seeds"
    echo "CAIRN_CLUSTER=$cluster_name"
    echo "CAIRN_N=${CHAOS_N:-3}"
    echo "CAIRN_R=${CHAOS_R:-2}"
    echo "CAIRN_W=${CHAOS_W:-2}"
    for s in ${CHAOS_NODE_SETTINGS:-}; do echo "$s"; done
  } >"$dir/node$i.env"
}

# Starts node $1 from its env file; with $2 (seconds, may be negative) under libfaketime with
# that wall-clock offset (monotonic time left alone). The node runs in its own session (setsid)
# so a Ctrl-C in the terminal reaches the scripts, whose traps heal, not the nodes.
start_node() {
  local i=$1 skew=${2:-}
  running "$i" && { note "node $i already running (pid $(pid_of "$i"))"; return 0; }
  [ -f "$dir/node$i.env" ] || die "node $i was never set up; use: Chaos/cluster.sh up (or join $i)"
  [ -x "$bin/cairnd" ] || die "no $bin/cairnd; build it: swift build -c $config --product cairnd"
  mkdir -p "$dir/node$i"
  rm -f "$dir/node$i.left"
  local -a settings=() clean=() preload=()
  mapfile -t settings <"$dir/node$i.env"
  # Settings the caller's environment holds must not leak into the node: only the env file counts.
  local name
  for name in $(compgen -e | grep '^CAIRN_' || true); do clean+=(-u "$name"); done
  if [ -n "$skew" ]; then
    [[ $skew =~ ^[+-]?[0-9]+$ ]] || die "--skew takes whole seconds, like 120 or -90, not '$skew'"
    [ "${skew:0:1}" = - ] || skew="+${skew#+}"
    preload=(LD_PRELOAD="$(faketime_lib)" FAKETIME="$skew" FAKETIME_DONT_FAKE_MONOTONIC=1)
    echo "$skew" >"$dir/node$i.skew"
  else
    rm -f "$dir/node$i.skew"
  fi
  echo "---- $(date -u +%FT%TZ) start${skew:+ with wall clock $skew s}" >>"$dir/node$i.log"
  rm -f "$dir/node$i.pid"
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$dir/node$i.pid" \
    env ${clean[@]+"${clean[@]}"} "${settings[@]}" ${preload[@]+"${preload[@]}"} "$bin/cairnd" \
    >>"$dir/node$i.log" 2>&1 </dev/null &
  local _i
  for _i in $(seq 1 100); do [ -s "$dir/node$i.pid" ] && return 0; sleep 0.05; done
  die "node $i did not start; see $dir/node$i.log"
}

# SIGKILLs node $1 (SIGCONT first would be wrong: a paused node is killed as it is) and waits.
kill_node() {
  local i=$1 pid; pid=$(pid_of "$i")
  running "$i" || return 0
  kill -KILL "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
}

# SIGTERM (a clean stop); a paused node is resumed first so it can stop.
stop_node() {
  local i=$1 pid; pid=$(pid_of "$i")
  running "$i" || return 0
  kill -CONT "$pid" 2>/dev/null || true
  stop_pid "$pid" TERM
}

# The nft table partition.sh installs, if any.
nft_active() { command -v nft >/dev/null && nft list table inet "$nft_table" >/dev/null 2>&1; }

# Tmpfs mounts disk.sh made (mount points under $dir).
chaos_mounts() { findmnt -rn -o TARGET -t tmpfs 2>/dev/null | grep -E "^$dir/node[1-9]\$" || true; }
