#!/usr/bin/env bash
# A local Cairn cluster on loopback addresses: node i listens on 127.0.0.i (internode :7070,
# HTTP :7080), keeps its data in cluster-data/node<i>/ and logs to cluster-data/node<i>.log.
#
#   ./Scripts/cluster.sh up [N] [--tls]
#                                    install what is missing, build, start N nodes (default 3),
#                                    join them through node 1, wait for the ring to converge;
#                                    --tls: make a CA and node certificates in cluster-data/certs
#                                    and start every node with --certs-dir (mutual TLS between
#                                    nodes, HTTPS); the cluster stays TLS until 'reset'
#   ./Scripts/cluster.sh down        stop every node (SIGTERM: a clean shutdown)
#   ./Scripts/cluster.sh reset       stop every node and delete the cluster's data and logs
#   ./Scripts/cluster.sh status      which nodes run, and the cluster as node 1 sees it
#   ./Scripts/cluster.sh kill I      SIGKILL node I (its data stays)
#   ./Scripts/cluster.sh restart I   start node I again with its data
#
# The data outlives 'down': 'up N' over the data of an earlier cluster of more nodes refuses
# (its nodes remember every member), and says to run 'up' with that count or 'reset'.
#
# Environment: CAIRN_CLUSTER_DIR (default ./cluster-data), CAIRN_BUILD (release|debug).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${CAIRN_CLUSTER_DIR:-$root/cluster-data}
config=${CAIRN_BUILD:-release}
bin=$root/.build/$config

http_port=7080
curl_opts=()
scheme=http
certs=$dir/certs
# A cluster made with --tls keeps its certificates; every later command speaks HTTPS to it.
use_tls() { scheme=https; curl_opts=(--cacert "$certs/ca/ca.crt"); }
[ -f "$certs/ca/ca.crt" ] && use_tls
# shellcheck source=Scripts/cluster-lib.sh
. Scripts/cluster-lib.sh

build() { build_binaries; }
node_count() { ls "$dir"/node*.args 2>/dev/null | wc -l; }
# The cluster folder as the user would type it (relative to the repository when inside it).
shown_dir() { echo "${dir#"$root"/}"; }

# The highest i with data or settings left in node<i> by an earlier 'up' (0: none).
existing_nodes() {
  local highest=0 entry i
  for entry in "$dir"/node*; do
    [ -e "$entry" ] || continue
    i=${entry##*/node}; i=${i%%.*}
    [[ $i =~ ^[0-9]+$ ]] || continue
    [ -f "$dir/node$i/node.id" ] || [ -f "$dir/node$i.args" ] || continue
    [ "$i" -gt "$highest" ] && highest=$i
  done
  echo "$highest"
}

# Refuses to start N nodes over the data of an earlier cluster of more: each of its nodes
# remembers every member, so a smaller cluster would wait for members that never start and
# the ring would never settle on N. (Fewer nodes before is fine: the new ones join.)
check_existing_data() {
  local n=$1 existing
  existing=$(existing_nodes)
  [ "$existing" -gt "$n" ] || return 0
  die "$(shown_dir)/ holds the data of an earlier $existing-node cluster (node1 … node$existing); its nodes
  remember all $existing members, so 'up $n' would wait for members that never start.
  Start it as it was:          $0 up $existing
  or delete it and start anew: $0 reset && $0 up $n"
}

start() {
  local i=$1
  running "$i" && { echo "node $i already running (pid $(pid_of "$i"))"; return; }
  mkdir -p "$dir/node$i"
  [ -f "$dir/node$i.args" ] || die "node $i was never set up; use: $0 up"
  # shellcheck disable=SC2046
  nohup "$bin/cairnd" $(cat "$dir/node$i.args") >>"$dir/node$i.log" 2>&1 &
  echo $! >"$dir/node$i.pid"
}

# The members a /v1/cluster document lists, one "address status" per line. (The node renders
# each member's fields sorted by name, so "address" comes before "status".)
members_of() {
  { grep -o '"address":"[^"]*"[^}]*"status":"[^"]*"' <<<"$1" || true; } \
    | sed 's/^"address":"\([^"]*\)".*"status":"\([^"]*\)"$/\1 \2/'
}

# Converged: every node sees N valid members and the same ring version. A node that knows more
# live members than were started (data of an earlier, larger cluster that check_existing_data
# could not see, such as node folders deleted by hand) would never converge: say so at once.
wait_converged() {
  local n=$1 versions body members live
  for _ in $(seq 1 300); do
    versions=""
    local ok=1
    for i in $(seq 1 "$n"); do
      body=$(curl ${curl_opts[@]+"${curl_opts[@]}"} -fsS "$scheme://127.0.0.$i:7080/v1/cluster" 2>/dev/null) || { ok=0; break; }
      members=$(members_of "$body")
      live=$(grep -cE ' (joining|valid|leaving)$' <<<"$members" || true)
      if [ "$live" -gt "$n" ]; then
        local gone
        gone=$(awk -v n="$n" '$2 ~ /^(joining|valid|leaving)$/ {
                 split($1, hp, ":"); split(hp[1], ip, ".")
                 if (hp[1] !~ /^127\.0\.0\.[0-9]+$/ || ip[4] < 1 || ip[4] > n || hp[2] != 7070) print $1 }' <<<"$members")
        die "node $i remembers $live members, but $n nodes were started:
$(sed 's/^/    /' <<<"$members")
  The data in $(shown_dir)/ comes from an earlier, larger cluster; the $n nodes keep running.
  Either stop them, delete the data and start anew:
    $0 reset && $0 up $n
  or keep the data and remove each member that will not come back (docs/operations.md):
$(sed "s|^|    $bin/cairn cluster remove |" <<<"$gone")"
      fi
      [ "$(grep -c ' valid$' <<<"$members" || true)" -eq "$n" ] || { ok=0; break; }
      local ring; ring=$(grep -o '"ring":{[^}]*}' <<<"$body")
      [ "$(grep -o '"members":[0-9]*' <<<"$ring" | cut -d: -f2)" = "$n" ] || { ok=0; break; }
      versions+="$(grep -o '"version":[0-9]*' <<<"$ring")"$'\n'
    done
    if [ $ok -eq 1 ] && [ "$(sort -u <<<"$versions" | grep -c .)" -eq 1 ]; then return 0; fi
    sleep 0.1
  done
  local seen=""
  for i in $(seq 1 "$n"); do
    body=$(curl ${curl_opts[@]+"${curl_opts[@]}"} -fsS "$scheme://127.0.0.$i:7080/v1/cluster" 2>/dev/null) \
      || { seen+="  node $i: no answer"$'\n'; continue; }
    seen+="  node $i sees: $(members_of "$body" | tr '\n' ',' | sed 's/,$//; s/,/, /g')"$'\n'
  done
  die "the ring did not converge on $n valid members within 30 s:
${seen}  See $(shown_dir)/node*.log. If these members are left over from an earlier cluster, run
  '$0 reset' (stops the nodes and deletes $(shown_dir)/) and '$0 up $n' again."
}

# The certificates of a TLS cluster: a CA (its key beside it: a local cluster, not a
# production one) and one certificate per node for 127.0.0.i and localhost.
make_certs() {
  local n=$1 i
  mkdir -p "$certs"
  if [ ! -f "$certs/ca/ca.crt" ]; then
    "$bin/cairn" certs create-ca --certs-dir "$certs/ca" --ca-key "$certs/ca.key" >/dev/null
  fi
  for i in $(seq 1 "$n"); do
    [ -f "$certs/node$i/node.crt" ] && continue
    mkdir -p "$certs/node$i"
    cp "$certs/ca/ca.crt" "$certs/node$i/"
    "$bin/cairn" certs create-node "127.0.0.$i" localhost --certs-dir "$certs/node$i" --ca-key "$certs/ca.key" >/dev/null
  done
}

up() {
  local n=3 tls=0 argument
  for argument in "$@"; do
    case $argument in
      --tls) tls=1 ;;
      *) n=$argument ;;
    esac
  done
  [[ $n =~ ^[1-9]$ ]] || die "N must be 1…9 (nodes use 127.0.0.1…127.0.0.N)"
  check_existing_data "$n"
  build
  mkdir -p "$dir"
  if [ $tls -eq 1 ] || [ "$scheme" = https ]; then make_certs "$n"; use_tls; fi
  for i in $(seq 1 "$n"); do
    local seeds="" tls_args=""
    [ "$i" -gt 1 ] && seeds="--seeds 127.0.0.1:7070"
    [ "$scheme" = https ] && tls_args="--certs-dir $certs/node$i"
    echo "--data $dir/node$i --listen 127.0.0.$i:7070 --http 127.0.0.$i:7080 $seeds $tls_args" >"$dir/node$i.args"
    start "$i"
    wait_http "$i"
  done
  wait_converged "$n"
  if [ "$scheme" = https ]; then
    cat <<MSG
cluster: $n nodes up with TLS (data, logs and certificates in $dir)
  node i: internode 127.0.0.i:7070 (mutual TLS), HTTPS https://127.0.0.i:7080
try:
  export PATH="$bin:\$PATH" CAIRN_CA=$certs/ca/ca.crt
  cairn put greeting hello --node 127.0.0.1:7080
  cairn get greeting --node 127.0.0.3:7080
  curl -s --cacert $certs/ca/ca.crt https://127.0.0.2:7080/v1/keys/greeting
  cairn cluster status
stop with: $0 down
MSG
    return
  fi
  cat <<MSG
cluster: $n nodes up (data and logs in $dir)
  node i: internode 127.0.0.i:7070, HTTP http://127.0.0.i:7080
try:
  export PATH="$bin:\$PATH"
  cairn put greeting hello --node 127.0.0.1:7080
  cairn get greeting --node 127.0.0.3:7080
  curl -s http://127.0.0.2:7080/v1/keys/greeting
  cairn cluster status
stop with: $0 down
MSG
}

down() {
  local any=0
  for pidfile in "$dir"/node*.pid; do
    [ -f "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; any=1; fi
  done
  for pidfile in "$dir"/node*.pid; do
    [ -f "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    rm -f "$pidfile"
  done
  [ $any -eq 1 ] && echo "cluster: stopped" || echo "cluster: nothing was running"
}

# Stops every node, then deletes the cluster folder — only if it holds nothing but what 'up'
# makes (node<i>/, node<i>.args, .log, .pid, certs/), so a mistaken CAIRN_CLUSTER_DIR is left alone.
reset() {
  down
  [ -d "$dir" ] || { echo "cluster: no data in $(shown_dir) to delete"; return; }
  local entry name strangers=()
  for entry in "$dir"/* "$dir"/.[!.]*; do
    [ -e "$entry" ] || continue
    name=${entry##*/}
    [[ $name =~ ^(node[0-9]+(\.args|\.log|\.pid)?|certs)$ ]] || strangers+=("$name")
  done
  [ ${#strangers[@]} -eq 0 ] || die "not deleting $dir: it holds files cluster.sh did not make (${strangers[*]})"
  rm -rf "$dir"
  echo "cluster: deleted $(shown_dir) (data and logs)"
}

status() {
  local n; n=$(node_count)
  [ "$n" -gt 0 ] || { echo "cluster: no cluster set up in $dir"; return; }
  for i in $(seq 1 "$n"); do
    if running "$i"; then echo "node $i: running (pid $(pid_of "$i")) 127.0.0.$i:7080"; else echo "node $i: stopped"; fi
  done
  for i in $(seq 1 "$n"); do
    if running "$i"; then
      if [ -x "$bin/cairn" ]; then
        if [ "$scheme" = https ]; then "$bin/cairn" cluster status --node "127.0.0.$i:7080" --ca "$certs/ca/ca.crt" || true
        else "$bin/cairn" cluster status --node "127.0.0.$i:7080" || true; fi
      else curl ${curl_opts[@]+"${curl_opts[@]}"} -fsS "$scheme://127.0.0.$i:7080/v1/cluster"; echo; fi
      return
    fi
  done
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  reset) reset ;;
  status) status ;;
  kill)
    [ -n "${2:-}" ] || die "usage: $0 kill I"
    pid=$(pid_of "$2")
    running "$2" || die "node $2 is not running"
    kill -KILL "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "node $2 killed" ;;
  restart) [ -n "${2:-}" ] || die "usage: $0 restart I"; start "$2"; wait_http "$2"; echo "node $2 restarted" ;;
  *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
esac
