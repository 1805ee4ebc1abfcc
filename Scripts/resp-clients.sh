#!/usr/bin/env bash
# The PyPI `redis` client against one real cairnd's Redis port: Scripts/resp_redis_py.py checks
# strings, expiry, NX/XX, pipelines, scan_iter, errors, connection commands, siblings and CAS
# through redis-py in both RESP2 and RESP3, and prints 'N passed, M failed'.
#
#   ./Scripts/resp-clients.sh
#
# The node: the debug cairnd (CAIRN_BUILD=release for the release one), alone in its cluster
# with N = R = W = 1, on 127.0.0.1 with internode port 29570, HTTP port 29580 and Redis port
# 29579 (CAIRN_RESP_CLIENTS_PORT for another Redis port; the others follow it), data in a
# temporary directory. Its log is printed when a check fails. (redis-cli against three nodes is
# a Swift test: Tests/CairnNodeTests/RESPNodeTests.swift.)
#
# redis-py is installed, pinned, into .build/redis-py-venv (python3-venv comes from
# Scripts/setup.sh; the package from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

redis_py_version=8.2.0
venv=$root/.build/redis-py-venv
config=${CAIRN_BUILD:-debug}
resp_port=${CAIRN_RESP_CLIENTS_PORT:-29579}
http_port=$((resp_port + 1))
internode_port=$((resp_port - 9))

die() { echo "resp-clients: $*" >&2; exit 1; }

if ! "$venv/bin/python" -c "import redis, sys; sys.exit(redis.__version__ != '$redis_py_version')" 2>/dev/null; then
  echo "resp-clients: installing redis $redis_py_version (redis-py) into $venv…" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed; is python3-venv installed (./Scripts/setup.sh)?"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "redis==$redis_py_version"
fi

swift build -c "$config" --product cairnd >/dev/null
bin=$root/.build/$config/cairnd

if curl -s -o /dev/null "http://127.0.0.1:$http_port/"; then
  die "something already answers on 127.0.0.1:$http_port; CAIRN_RESP_CLIENTS_PORT picks other ports"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-resp-clients.XXXXXX")
pid=
stop_node() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -rf "$work"
}
trap stop_node EXIT

"$bin" --data "$work/data" --listen "127.0.0.1:$internode_port" --http "127.0.0.1:$http_port" \
  --resp "127.0.0.1:$resp_port" --n 1 --partitions 16 --durability none --log-level info >"$work/node.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  grep -q "RESP listening" "$work/node.log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/node.log" >&2; die "cairnd exited (is port $resp_port, $http_port or $internode_port taken?)"; }
  sleep 0.1
done
grep -q "RESP listening" "$work/node.log" || die "cairnd did not listen on 127.0.0.1:$resp_port within 15 s"

status=0
"$venv/bin/python" Scripts/resp_redis_py.py 127.0.0.1 "$resp_port" || status=$?
if [ $status -ne 0 ]; then
  echo "---- cairnd log (last 100 lines) ----" >&2
  tail -n 100 "$work/node.log" >&2
  kill -0 "$pid" 2>/dev/null || echo "resp-clients: cairnd is no longer running" >&2
fi
exit $status
