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

exec "$(dirname "$0")/../Scripts/setup.sh" nftables libfaketime jq curl util-linux
