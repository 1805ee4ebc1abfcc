#!/usr/bin/env bash
# Installs what the chaos scripts need besides what Scripts/setup.sh installs (Debian/Ubuntu,
# apt-get). Idempotent: quiet and quick when everything is already there.
#   nftables   nft: partitions, one-way and lossy links (Chaos/partition.sh)
#   libfaketime a wall-clock offset for one node (Chaos/cluster.sh start I --skew S)
#   jq         reading each node's GET /v1/cluster answer
#   curl       every request the scripts make (bound to 127.0.0.100)
#   util-linux mount/umount for the full-disk fault (Chaos/disk.sh); present on any Debian
# The chaos scripts change firewall rules, mount file systems and signal processes: they must
# run as root (or through sudo).
set -euo pipefail

packages=(nftables libfaketime jq curl util-linux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "chaos setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
