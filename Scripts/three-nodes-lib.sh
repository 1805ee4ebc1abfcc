# Three release cairnd nodes on 127.0.0.2-4 for the measuring scripts (profile-write.sh,
# capacity.sh); sourced, not run. The caller sets:
#   name          what messages start with
#   listen_port   internode port; http_port: HTTP port; resp_port: Redis port, or empty
#   durability    the nodes' --durability
#   cores         the nodes' --cores (default 1: three nodes share this machine's CPUs; see
#                 docs/benchmarks.md, "Core instances")
#   certs         optional: a directory with ca/ca.crt and node2..node4 certificate directories
#                 (three_nodes_certs makes them); the nodes then run with --certs-dir (TLS on
#                 every port)
#   extra_args    optional: more cairnd arguments for every node
# then calls three_nodes_up. It builds cairnd (release), starts the nodes with their data and
# logs in $work (removed on exit, with the nodes stopped), and returns once every node sees
# three valid members. Their process ids are in ${pids[@]} (nodes 2, 3, 4).

three_nodes_up() {
  swift build -c release --product cairnd >/dev/null
  local cairnd=$PWD/.build/release/cairnd i seeds resp tls
  work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-$name.XXXXXX")
  scheme=http curl_tls=()
  if [ -n "${certs:-}" ]; then scheme=https curl_tls=(--cacert "$certs/ca/ca.crt"); fi
  pids=()
  trap three_nodes_down EXIT
  for i in 2 3 4; do
    if (exec 3<>"/dev/tcp/127.0.0.$i/$http_port") 2>/dev/null; then
      echo "$name: something already listens on 127.0.0.$i:$http_port; stop it first" >&2
      exit 1
    fi
  done
  for i in 2 3 4; do
    seeds="" resp="" tls=""
    [ "$i" -gt 2 ] && seeds="--seeds 127.0.0.2:$listen_port"
    [ -n "${resp_port:-}" ] && resp="--resp 127.0.0.$i:$resp_port"
    [ -n "${certs:-}" ] && tls="--certs-dir $certs/node$i"
    # shellcheck disable=SC2086
    "$cairnd" --data "$work/node$i" --listen "127.0.0.$i:$listen_port" --http "127.0.0.$i:$http_port" $resp $seeds $tls \
      --durability "$durability" --cores "${cores:-1}" --log-level warning ${extra_args:-} >"$work/node$i.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 200); do
      curl -fsS "${curl_tls[@]}" "$scheme://127.0.0.$i:$http_port/health" >/dev/null 2>&1 && break
      sleep 0.1
    done
  done
  for _ in $(seq 1 300); do three_nodes_settled && return 0; sleep 0.2; done
  echo "$name: the ring did not settle; logs in $work" >&2
  exit 1
}

three_nodes_settled() {
  local i
  for i in 2 3 4; do
    [ "$(curl -fsS "${curl_tls[@]}" "$scheme://127.0.0.$i:$http_port/v1/cluster" | grep -o '"status":"valid"' | wc -l)" -eq 3 ] || return 1
  done
}

three_nodes_down() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}

# Makes what `certs` names: a CA in $1/ca (its key beside it) and node certificates for
# 127.0.0.2-4 in $1/node2..node4, with the cairn binary $2.
three_nodes_certs() {
  local dir=$1 cairn=$2 i
  "$cairn" certs create-ca --certs-dir "$dir/ca" --ca-key "$dir/ca.key" >/dev/null
  for i in 2 3 4; do
    mkdir -p "$dir/node$i"
    cp "$dir/ca/ca.crt" "$dir/node$i/"
    "$cairn" certs create-node "127.0.0.$i" --certs-dir "$dir/node$i" --ca-key "$dir/ca.key" >/dev/null
  done
}
