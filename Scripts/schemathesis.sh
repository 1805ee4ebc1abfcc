#!/usr/bin/env bash
# Schemathesis (property-based API testing from the spec) against one real cairnd: every check,
# docs/openapi.yaml as the description, a short bounded run. Fails on any failure.
#
#   ./Scripts/schemathesis.sh                  the short run ./Scripts/test.sh makes (well under a minute)
#   ./Scripts/schemathesis.sh --max-time 180   a longer one: extra arguments replace the default
#                                              budget and go to `st run` (--seed N replays a run)
#
# The node: the debug cairnd (CAIRN_BUILD=release for the release one), alone in its cluster with
# N = R = W = 1 so that every write can succeed, on 127.0.0.1 with internode port 29470 and HTTP
# port 29480 (CAIRN_SCHEMATHESIS_PORT for another HTTP port; internode is 10 below), data in a
# temporary directory. Its log is printed when the run fails.
#
# Schemathesis is installed, pinned, into .build/schemathesis-venv (python3-venv comes from
# Scripts/setup.sh; the package from PyPI). Scripts/schemathesis.toml holds the settings and
# Scripts/schemathesis_hooks.py what the spec says in prose because OpenAPI cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

schemathesis_version=4.32.5
venv=$root/.build/schemathesis-venv
config=${CAIRN_BUILD:-debug}
http_port=${CAIRN_SCHEMATHESIS_PORT:-29480}
internode_port=$((http_port - 10))
replicas=1
short_run=(--max-examples 50)

die() { echo "schemathesis: $*" >&2; exit 1; }

if ! "$venv/bin/st" --version 2>/dev/null | grep -qF "$schemathesis_version"; then
  echo "schemathesis: installing schemathesis $schemathesis_version into $venv…" >&2
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Schemathesis needs Python 3.11 or newer"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed; is python3-venv installed (./Scripts/setup.sh)?"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

swift build -c "$config" --product cairnd >/dev/null
bin=$root/.build/$config/cairnd

if curl -s -o /dev/null "http://127.0.0.1:$http_port/"; then
  die "something already answers on 127.0.0.1:$http_port; CAIRN_SCHEMATHESIS_PORT picks another port"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-schemathesis.XXXXXX")
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

# Durability does not change what the API answers; without fsync the run makes more requests.
"$bin" --data "$work/data" --listen "127.0.0.1:$internode_port" --http "127.0.0.1:$http_port" \
  --n $replicas --r $replicas --w $replicas --partitions 16 --durability none --log-level info >"$work/node.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$http_port/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/node.log" >&2; die "cairnd exited (is port $http_port or $internode_port taken?)"; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$http_port/health" >/dev/null && kill -0 "$pid" 2>/dev/null \
  || die "cairnd did not answer on 127.0.0.1:$http_port within 15 s"

export HYPOTHESIS_STORAGE_DIRECTORY=$root/.build/hypothesis
arguments=("$@")
[ ${#arguments[@]} -gt 0 ] || arguments=("${short_run[@]}")
status=0
CAIRN_N=$replicas "$venv/bin/st" --config-file Scripts/schemathesis.toml run docs/openapi.yaml \
  --url "http://127.0.0.1:$http_port" --checks all --workers 1 --no-color "${arguments[@]}" || status=$?
if [ $status -ne 0 ]; then
  echo "---- cairnd log (last 100 lines) ----" >&2
  tail -n 100 "$work/node.log" >&2
  kill -0 "$pid" 2>/dev/null || echo "schemathesis: cairnd is no longer running" >&2
fi
exit $status
