# Helpers shared by Scripts/cluster.sh and the chaos scripts (Chaos/lib.sh); sourced, not run.
# The caller sets:
#   dir         the cluster's folder: node<i>/ (data), node<i>.pid, node<i>.log
#   http_port   the nodes' HTTP port (node i answers on 127.0.0.i:http_port)
#   bin         the folder holding cairnd and cairn
#   config      release|debug, for build_binaries
#   log_prefix  what messages start with (default: cluster)
#   curl_opts   an array of extra curl options (the chaos scripts bind to 127.0.0.100)
#   scheme      http (default) or https (nodes started with --certs-dir; curl_opts then
#               carries --cacert)

die() { echo "${log_prefix:-cluster}: $*" >&2; exit 1; }

# Installs the Debian packages the build needs and builds cairnd and cairn (quick when up to date).
build_binaries() {
  ./Scripts/setup.sh
  echo "${log_prefix:-cluster}: building cairnd and cairn ($config)…" >&2
  swift build -c "$config" --product cairnd >/dev/null
  swift build -c "$config" --product cairn >/dev/null
}

pid_of() { cat "$dir/node$1.pid" 2>/dev/null || true; }
running() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

# Waits until node $1 answers GET /health with 200 (it has a ring and serves).
wait_http() {
  local i=$1
  for _ in $(seq 1 150); do
    curl ${curl_opts[@]+"${curl_opts[@]}"} -fsS -o /dev/null --max-time 2 "${scheme:-http}://127.0.0.$i:$http_port/health" 2>/dev/null && return 0
    running "$i" || die "node $i exited; see $dir/node$i.log"
    sleep 0.1
  done
  die "node $i did not answer on 127.0.0.$i:$http_port within 15 s; see $dir/node$i.log"
}

# Sends $2 (default TERM) to pid $1 and waits up to 10 s for it to end, then SIGKILLs it.
stop_pid() {
  local pid=$1 signal=${2:-TERM}
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}
