#!/usr/bin/env bash
# Installs the system packages Cairn needs (Debian/Ubuntu, apt-get). Idempotent: quiet and
# quick when everything is already there.
#   libxxhash-dev, liblz4-dev   checksums and value compression (CXXHash, CLZ4)
#   liblmdb-dev, librocksdb-dev the engines `cairn bench engine` compares against
#   pkg-config                  how SwiftPM finds the four above
#   curl                        Scripts/cluster.sh waits on each node's HTTP API with it
#   python3, python3-venv       Scripts/schemathesis.sh installs Schemathesis (PyPI) into a venv,
#                               Scripts/resp-clients.sh the redis client (redis-py)
#   redis-tools                 redis-cli, which the Redis protocol's multi-process test drives
#   chromium                    headless, for the status page's test (StatusPageTests)
#   python3-yaml                Scripts/check-deploy.py reads the Kubernetes manifests with it
#   libfaketime                 runs one node 30 s ahead in the clock-skew test (ClockSkewTests)
# Packages named as arguments are installed too (Chaos/setup.sh names what the chaos scripts need).
set -euo pipefail

packages=(pkg-config libxxhash-dev liblz4-dev liblmdb-dev librocksdb-dev curl python3 python3-venv redis-tools chromium python3-yaml libfaketime "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
