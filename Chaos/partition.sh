#!/usr/bin/env bash
# Network faults between the chaos cluster's nodes, by nft rules on loopback (docs/reliability.md).
#
#   Chaos/partition.sh isolate I                  cut node I off from every other node
#   Chaos/partition.sh split "1 2" ["3 4 5"]      cut the two groups apart (second: all others)
#   Chaos/partition.sh bridge ["1 2" 3 "4 5"]     two halves that share node 3: 1,2 and 4,5 cannot
#                                                 talk, 3 talks to all (default: the middle node
#                                                 of the cluster is the bridge)
#   Chaos/partition.sh oneway FROM TO             drop only the packets from node FROM to node TO
#   Chaos/partition.sh lossy I PERCENT            drop PERCENT % of the packets between node I and
#                                                 every other node, at random, each way
#   Chaos/partition.sh heal                       delete the rules (the whole nft table)
#   Chaos/partition.sh show                       the rules in force, with packet counters
# Options for a fault: --for S  heal after S seconds (and on Ctrl-C or any exit);
#                      --add    keep the rules in force and add these (default: replace them).
#
# What a rule matches: TCP between two node addresses (127.0.0.1-9), with the chaos cluster's
# internode or HTTP port (CHAOS_INTERNODE_PORT 17070, CHAOS_HTTP_PORT 17080) as source or
# destination port. So it never touches other clusters (Scripts/cluster.sh's 7070/7080, the
# tests' 27000+/28000+ ports), nor any client on 127.0.0.100. All rules live in one table,
# `inet cairn_chaos`, in an output-hook chain; each change replaces the whole table in one
# `nft -f` transaction, and heal deletes that table and nothing else.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,22p' "$0"; exit 2; }

rules_file=$dir/partition.rules
ports="{ $internode_port, $http_port }"

# "1 2" or "1,2" → "127.0.0.1, 127.0.0.2"
addresses() {
  local n out=""
  for n in ${1//,/ }; do valid_node "$n"; out+="${out:+, }127.0.0.$n"; done
  [ -n "$out" ] || die "an empty group of nodes"
  echo "$out"
}

# Node numbers 1-9 that are not in "$1".
complement() {
  local n out=""
  for n in 1 2 3 4 5 6 7 8 9; do [[ " ${1//,/ } " == *" $n "* ]] || out+="${out:+ }$n"; done
  echo "$out"
}

# Rules that drop every packet from group $1 to group $2 (both given as node lists), with an
# optional extra match $3 placed before the verdict (e.g. the random drop).
one_direction() {
  local from to extra=${3:-}
  from=$(addresses "$1"); to=$(addresses "$2")
  echo "ip saddr { $from } ip daddr { $to } tcp dport $ports ${extra:+$extra }counter drop"
  echo "ip saddr { $from } ip daddr { $to } tcp sport $ports ${extra:+$extra }counter drop"
}
both_directions() { one_direction "$1" "$2" "${3:-}"; one_direction "$2" "$1" "${3:-}"; }

disjoint() {
  local n
  for n in ${1//,/ }; do [[ " ${2//,/ } " == *" $n "* ]] && die "node $n is in both groups"; done
  return 0
}

# Replaces the table with the rules in $rules_file, in one transaction.
apply() {
  need_root "partition.sh"
  ./Chaos/setup.sh
  local file; file=$(mktemp)
  {
    echo "table inet $nft_table"
    echo "delete table inet $nft_table"
    echo "table inet $nft_table {"
    echo "  chain output {"
    echo "    type filter hook output priority filter; policy accept;"
    sed 's/^/    /' "$rules_file"
    echo "  }"
    echo "}"
  } >"$file"
  if ! nft -f "$file"; then rm -f "$file"; die "nft refused the rules (kept in $rules_file)"; fi
  rm -f "$file"
}

heal() {
  if nft_active; then nft delete table inet "$nft_table"; fi
  rm -f "$rules_file"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
# Options may come anywhere after the mode.
add=0; for_seconds=""; args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --add) add=1 ;;
    --for) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--for takes whole seconds"; for_seconds=$2; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
set -- ${args[@]+"${args[@]}"}

new=""
case "$cmd" in
  isolate)
    [ $# -eq 1 ] || usage; valid_node "$1"
    new=$(both_directions "$1" "$(complement "$1")"); what="node $1 isolated" ;;
  split)
    [ $# -ge 1 ] && [ $# -le 2 ] || usage
    a=$1; b=${2:-$(complement "$1")}; disjoint "$a" "$b"
    new=$(both_directions "$a" "$b"); what="split: {$a} | {$b}" ;;
  bridge)
    if [ $# -eq 0 ]; then
      k=$(nodes | wc -l); [ "$k" -ge 3 ] || k=5
      m=$(( (k + 1) / 2 )); a=$(seq -s ' ' 1 $((m - 1))); b=$(seq -s ' ' $((m + 1)) "$k"); bridge_node=$m
    else
      [ $# -eq 3 ] || usage; a=$1; bridge_node=$2; b=$3; valid_node "$bridge_node"
    fi
    disjoint "$a" "$b"; disjoint "$a" "$bridge_node"; disjoint "$b" "$bridge_node"
    new=$(both_directions "$a" "$b"); what="bridge: {$a} | {$b}, node $bridge_node talks to both" ;;
  oneway)
    [ $# -eq 2 ] || usage; valid_node "$1"; valid_node "$2"; [ "$1" != "$2" ] || die "FROM and TO must differ"
    new=$(one_direction "$1" "$2"); what="one-way: packets from node $1 to node $2 dropped" ;;
  lossy)
    [ $# -eq 2 ] || usage; valid_node "$1"
    [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 100 ] || die "PERCENT must be 1…100"
    new=$(both_directions "$1" "$(complement "$1")" "numgen random mod 100 < $2")
    what="lossy: $2 % of the packets between node $1 and the others dropped" ;;
  heal) heal; note "network healed (table inet $nft_table deleted)"; exit 0 ;;
  show)
    if nft_active; then nft list table inet "$nft_table"; else echo "no partition rules (table inet $nft_table absent)"; fi
    exit 0 ;;
  *) usage ;;
esac

mkdir -p "$dir"
if [ $add -eq 1 ] && [ -f "$rules_file" ]; then
  { cat "$rules_file"; echo "$new"; } >"$rules_file.new"
else
  echo "$new" >"$rules_file.new"
fi
mv "$rules_file.new" "$rules_file"
if [ -n "$for_seconds" ]; then
  trap 'heal; note "network healed"' EXIT
  trap 'exit 130' INT TERM
fi
apply
note "$what"
if [ -n "$for_seconds" ]; then sleep "$for_seconds" & wait $!; fi
