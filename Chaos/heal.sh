#!/usr/bin/env bash
# Undoes every chaos fault; safe to run any number of times, with or without a cluster.
#
#   Chaos/heal.sh [--no-restart] [--keep-skew] [--quiet]
#
# In this order:
#   1. network: deletes the nft table inet cairn_chaos (every partition, one-way and lossy rule)
#   2. pauses: SIGCONT to every node of the chaos cluster
#   3. disks: every tmpfs Chaos/disk.sh mounted under the data folder is copied back to the real
#      disk and unmounted (its node restarted cleanly if it was running)
#   4. clocks: every node running under libfaketime is restarted cleanly (SIGTERM) on the real
#      clock (--keep-skew: left as it is)
#   5. processes: every node that was killed (its pid file is there, its process is not) is
#      started again with its data (--no-restart: left down). Nodes that left, or that
#      `Chaos/cluster.sh down` stopped, stay down.
# A wiped node stays what it became (a new identity); a node that joined stays a member.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

restart=1; keep_skew=0; quiet=0
for a in "$@"; do
  case "$a" in
    --no-restart) restart=0 ;;
    --keep-skew) keep_skew=1 ;;
    --quiet) quiet=1 ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
  esac
done
say() { [ $quiet -eq 1 ] || note "$*"; }

if nft_active; then
  [ "$(id -u)" -eq 0 ] || die "deleting the nft table needs root"
  nft delete table inet "$nft_table"
  say "network healed (table inet $nft_table deleted)"
fi
rm -f "$dir/partition.rules"

for i in $(nodes); do
  if running "$i" && paused "$i"; then kill -CONT "$(pid_of "$i")"; say "node $i resumed"; fi
done

for m in $(chaos_mounts); do
  i=${m##*/node}
  if [ $quiet -eq 1 ]; then ./Chaos/disk.sh undo "$i" >/dev/null 2>&1; else ./Chaos/disk.sh undo "$i"; fi
done

if [ $keep_skew -eq 0 ]; then
  for i in $(nodes); do
    [ -f "$dir/node$i.skew" ] || continue
    if running "$i"; then
      stop_node "$i"; start_node "$i"; wait_http "$i"
      say "node $i restarted on the real clock"
    else
      rm -f "$dir/node$i.skew"
    fi
  done
fi

if [ $restart -eq 1 ]; then
  for i in $(nodes); do
    if killed "$i"; then start_node "$i"; wait_http "$i"; say "node $i restarted"; fi
  done
fi
exit 0
