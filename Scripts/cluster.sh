#!/usr/bin/env bash
# A local Cairn cluster on loopback addresses: node i listens on 127.0.0.i (internode :7070,
# HTTP :7080), keeps its data in cluster-data/node<i>/ and logs to cluster-data/node<i>.log.
#
#   ./Scripts/cluster.sh up [N]      install what is missing, build, start N nodes (default 3),
#                                    join them through node 1, wait for the ring to converge
#   ./Scripts/cluster.sh down        stop every node (SIGTERM: a clean shutdown)
#   ./Scripts/cluster.sh status      which nodes run, and the cluster as node 1 sees it
#   ./Scripts/cluster.sh kill I      SIGKILL node I (its data stays)
#   ./Scripts/cluster.sh restart I   start node I again with its data
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
# shellcheck source=Scripts/cluster-lib.sh
. Scripts/cluster-lib.sh

build() { build_binaries; }
node_count() { ls "$dir"/node*.args 2>/dev/null | wc -l; }

start() {
  local i=$1
  running "$i" && { echo "node $i already running (pid $(pid_of "$i"))"; return; }
  mkdir -p "$dir/node$i"
  [ -f "$dir/node$i.args" ] || die "node $i was never set up; use: $0 up"
  # shellcheck disable=SC2046
  nohup "$bin/cairnd" $(cat "$dir/node$i.args") >>"$dir/node$i.log" 2>&1 &
  echo $! >"$dir/node$i.pid"
}

# Converged: every node sees N valid members and the same ring version.
wait_converged() {
  local n=$1 versions
  for _ in $(seq 1 300); do
    versions=""
    local ok=1
    for i in $(seq 1 "$n"); do
      local body
      body=$(curl -fsS "http://127.0.0.$i:7080/v1/cluster" 2>/dev/null) || { ok=0; break; }
      [ "$(grep -o '"status":"valid"' <<<"$body" | wc -l)" -eq "$n" ] || { ok=0; break; }
      local ring; ring=$(grep -o '"ring":{[^}]*}' <<<"$body")
      [ "$(grep -o '"members":[0-9]*' <<<"$ring" | cut -d: -f2)" = "$n" ] || { ok=0; break; }
      versions+="$(grep -o '"version":[0-9]*' <<<"$ring")"$'\n'
    done
    if [ $ok -eq 1 ] && [ "$(sort -u <<<"$versions" | grep -c .)" -eq 1 ]; then return 0; fi
    sleep 0.1
  done
  die "the ring did not converge on $n members within 30 s; see $dir/node*.log"
}

up() {
  local n=${1:-3}
  [[ $n =~ ^[1-9]$ ]] || die "N must be 1…9 (nodes use 127.0.0.1…127.0.0.N)"
  build
  mkdir -p "$dir"
  for i in $(seq 1 "$n"); do
    local seeds=""
    [ "$i" -gt 1 ] && seeds="--seeds 127.0.0.1:7070"
    echo "--data $dir/node$i --listen 127.0.0.$i:7070 --http 127.0.0.$i:7080 $seeds" >"$dir/node$i.args"
    start "$i"
    wait_http "$i"
  done
  wait_converged "$n"
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

status() {
  local n; n=$(node_count)
  [ "$n" -gt 0 ] || { echo "cluster: no cluster set up in $dir"; return; }
  for i in $(seq 1 "$n"); do
    if running "$i"; then echo "node $i: running (pid $(pid_of "$i")) 127.0.0.$i:7080"; else echo "node $i: stopped"; fi
  done
  for i in $(seq 1 "$n"); do
    if running "$i"; then
      if [ -x "$bin/cairn" ]; then "$bin/cairn" cluster status --node "127.0.0.$i:7080" || true
      else curl -fsS "http://127.0.0.$i:7080/v1/cluster"; echo; fi
      return
    fi
  done
}

case "${1:-}" in
  up) up "${2:-3}" ;;
  down) down ;;
  status) status ;;
  kill)
    [ -n "${2:-}" ] || die "usage: $0 kill I"
    pid=$(pid_of "$2")
    running "$2" || die "node $2 is not running"
    kill -KILL "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "node $2 killed" ;;
  restart) [ -n "${2:-}" ] || die "usage: $0 restart I"; start "$2"; wait_http "$2"; echo "node $2 restarted" ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
