#!/usr/bin/env bash
# Every chaos scenario, then the check of the checkers (docs/reliability.md).
#
#   sudo Chaos/run-all.sh [--short] [--time S] [--seed N]
#
# Runs Chaos/run.sh for each scenario (each on a fresh 5-node cluster, N=3, R=W=2), then
# partition-majority and flapping once more with the nodes in the unsafe last-writer-wins mode,
# where the checks must FAIL (acknowledged writes reported lost). Prints one table row per run
# (from each run's summary.tsv) and ends with `N passed, M failed` over the runs: a safe
# scenario passes when every check passed, an unsafe one when some check failed.
# --short: the CI tier (kill-restart, partition-majority, pause, 20 s each, and one unsafe run),
# under ten minutes. The table is also written to chaos-runs/table.md (CHAOS_RUNS).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root "run-all.sh"

short=0; time_opt=(); seed=7
while [ $# -gt 0 ]; do
  case $1 in
    --short) short=1; shift ;;
    --time) time_opt=(--time "$2"); shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
  esac
done

if [ "$short" = 1 ]; then
  [ ${#time_opt[@]} -gt 0 ] || time_opt=(--time 20)
  safe=(kill-restart partition-majority pause)
  unsafe=(partition-majority)
else
  safe=(partition-majority partition-bridge partition-oneway kill-restart pause lossy clock-skew disk-full wiped-node join-leave flapping soak)
  unsafe=(partition-majority flapping)
fi

runs=${CHAOS_RUNS:-$chaos_root/chaos-runs}
mkdir -p "$runs"
table=$runs/table.md
{
  echo "| scenario | nodes | seconds | operations | acknowledged | failed | unknown | set lost | plain lost | invented | resurrected | CAS linearizable | converged after (s) | checks |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$table"
passed=0; failed=0; started=$(date +%s)
row() {
  local name=$1 expect=$2 rc=$3 out=$4 line verdict
  line=$(tail -1 "$out/summary.tsv" 2>/dev/null || true)
  if [ -z "$line" ]; then
    failed=$((failed + 1)); echo "| $name | — | — | run did not finish (exit $rc) |" >>"$table"; echo "FAIL $name: no summary"; return
  fi
  IFS=$'\t' read -r ops ack fail unk lost plost inv res cas conv cp cf <<<"$line"
  if [ "$expect" = pass ] && [ "$rc" -eq 0 ] && [ "$cf" -eq 0 ]; then verdict="$cp passed"; passed=$((passed + 1))
  elif [ "$expect" = fail ] && [ "$cf" -gt 0 ]; then verdict="$cf failed, as they must"; passed=$((passed + 1))
  else verdict="**$cf failed**"; failed=$((failed + 1)); fi
  local secs; secs=$(awk -F'\t' 'NR > 1 && $11 != "-" { if ($11 > m) m = $11 } END { printf "%d", m / 10000 }' "$out/history.tsv")
  echo "| $name | 5 | $secs | $ops | $ack | $fail | $unk | $lost | $plost | $inv | $res | $cas | $conv | $verdict |" >>"$table"
  echo "== $name: $verdict (lost $lost + $plost, invented $inv, resurrected $res, CAS $cas, converged after $conv s)"
}

for scenario in "${safe[@]}"; do
  rc=0; ./Chaos/run.sh "$scenario" --seed "$seed" "${time_opt[@]}" || rc=$?
  row "$scenario" pass "$rc" "$runs/$scenario-$seed"
done
for scenario in "${unsafe[@]}"; do
  rc=0; ./Chaos/run.sh "$scenario" --seed "$seed" --unsafe "${time_opt[@]}" || rc=$?
  row "$scenario, unsafe last-writer-wins" fail "$rc" "$runs/$scenario-$seed-unsafe"
done

echo
cat "$table"
echo
echo "run-all: $(( $(date +%s) - started )) s; table in $table"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
