#!/usr/bin/env bash
# A full (or small) disk for one node of the chaos cluster (docs/reliability.md).
#
#   Chaos/disk.sh full I [--for S]    move node I's data onto a tmpfs just big enough for it and
#                                     fill the rest with a ballast file once the node serves: every
#                                     write that needs a new block fails (ENOSPC)
#   Chaos/disk.sh small I [MiB]       the same tmpfs with MiB (default 16) left free and no ballast:
#                                     the node's own writes fill it
#   Chaos/disk.sh undo I              stop the node cleanly, copy its data back to the real disk,
#                                     unmount, start it again (if it was running)
#   Chaos/disk.sh undo-all            undo every node's tmpfs
#
# The node is stopped (SIGTERM) while its data moves and started again afterwards, so the fault
# begins and ends with a clean restart of that node. Nothing it stored on the tmpfs is lost: undo
# copies it back. --for S undoes after S seconds, and on Ctrl-C or any exit.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,16p' "$0"; exit 2; }

mounted() { findmnt -rn "$dir/node$1" >/dev/null 2>&1; }

# Moves node $1's data onto a tmpfs with $2 MiB free beyond what it holds.
to_tmpfs() {
  local i=$1 free=$2 was_running=0 used size data
  data=$dir/node$i
  need_root "disk.sh"
  [ -f "$dir/node$i.env" ] || die "node $i was never set up"
  mounted "$i" && die "node $i's data is on a tmpfs already (Chaos/disk.sh undo $i)"
  running "$i" && was_running=1
  stop_node "$i"
  mkdir -p "$data"
  used=$(du -sm "$data" | cut -f1)
  size=$(( used + free + 1 ))
  rm -rf "$data.ondisk"
  mv "$data" "$data.ondisk"
  mkdir "$data"
  mount -t tmpfs -o "size=${size}m,mode=0755" "chaos-node$i" "$data"
  cp -a "$data.ondisk/." "$data/"
  rm -rf "$data.ondisk"
  if [ $was_running -eq 1 ]; then start_node "$i" "$(cat "$dir/node$i.skew" 2>/dev/null || true)"; wait_http "$i"; fi
}

undo() {
  local i=$1 was_running=0 data
  data=$dir/node$i
  mounted "$i" || { rm -f "$dir/node$i.disk"; return 0; }
  need_root "disk.sh"
  running "$i" && was_running=1
  stop_node "$i"
  rm -f "$data/chaos-ballast"
  rm -rf "$data.back"
  mkdir "$data.back"
  cp -a "$data/." "$data.back/"
  umount "$data"
  rmdir "$data"
  mv "$data.back" "$data"
  rm -f "$dir/node$i.disk"
  if [ $was_running -eq 1 ]; then start_node "$i" "$(cat "$dir/node$i.skew" 2>/dev/null || true)"; wait_http "$i"; fi
  note "node $i's data is back on the real disk"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
  full)
    valid_node "${1:-}"; i=$1; shift
    for_seconds=""
    if [ "${1:-}" = --for ]; then [[ ${2:-} =~ ^[0-9]+$ ]] || die "--for takes whole seconds"; for_seconds=$2; fi
    if [ -n "$for_seconds" ]; then trap 'undo '"$i" EXIT; trap 'exit 130' INT TERM; fi
    to_tmpfs "$i" 4
    # Fill what is left: fallocate takes most of it in one go, dd the last pages.
    avail=$(df --output=avail -B1 "$dir/node$i" | tail -1 | tr -d ' ')
    [ "$avail" -gt 0 ] && { fallocate -l "$avail" "$dir/node$i/chaos-ballast" 2>/dev/null || true; }
    dd if=/dev/zero of="$dir/node$i/chaos-ballast" bs=4096 oflag=append conv=notrunc status=none 2>/dev/null || true
    echo full >"$dir/node$i.disk"
    note "node $i's disk is full: $(df -h --output=size,used,avail,pcent "$dir/node$i" | tail -1 | xargs)"
    if [ -n "$for_seconds" ]; then sleep "$for_seconds" & wait $!; fi ;;
  small)
    valid_node "${1:-}"; i=$1; free=${2:-16}
    [[ $free =~ ^[0-9]+$ ]] || die "MiB must be a whole number"
    to_tmpfs "$i" "$free"
    echo "small $free" >"$dir/node$i.disk"
    note "node $i's data is on a tmpfs with $free MiB free: $(df -h --output=size,used,avail,pcent "$dir/node$i" | tail -1 | xargs)" ;;
  undo) valid_node "${1:-}"; undo "$1" ;;
  undo-all) for m in $(chaos_mounts); do n=${m##*/node}; undo "$n"; done ;;
  *) usage ;;
esac
