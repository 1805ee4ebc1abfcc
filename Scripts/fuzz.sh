#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer) of every decoder a peer, a client or a
# disk feeds (Sources/cairn-fuzz, docs/security.md "Fuzzing").
#
#   Scripts/fuzz.sh TARGET [SECONDS]   fuzz one target (default 60 s)
#   Scripts/fuzz.sh all [SECONDS]      each target in turn, SECONDS each
#   Scripts/fuzz.sh list               the targets
#
# Targets: http json resp wire handshake dvvset context replica-record storage-record core.
# Seeds are in Fuzz/corpus/TARGET (in the repository); what libFuzzer finds beyond them goes to
# .build-fuzz/corpus/TARGET (not committed). A crash stops the run, leaves the input in
# .build-fuzz/artifacts/ and exits non-zero; replay it with a normal build:
#   swift build --product cairn-fuzz && .build/debug/cairn-fuzz TARGET .build-fuzz/artifacts/FILE
# Per target the script prints the executions run and the corpus size (libFuzzer's final stats).
# A unit is a hang only past 120 s: on a loaded machine (a test suite beside it) the sanitizers
# slow a 16 ms input past 20 s.
# Leak detection is off: the Swift runtime's process-lifetime objects (the storage runtime's
# descriptor pool, weak-reference side tables) are reported as leaks at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(http json resp wire handshake dvvset context replica-record storage-record core)
target=${1:-}
seconds=${2:-60}
[ -n "$target" ] || { sed -n '2,16p' "$0" >&2; exit 2; }
if [ "$target" = list ]; then printf '%s\n' "${targets[@]}"; exit 0; fi
if [ "$target" != all ]; then
  printf '%s\n' "${targets[@]}" | grep -qx -- "$target" || { echo "fuzz.sh: unknown target $target (try: fuzz.sh list)" >&2; exit 2; }
fi
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || { echo "fuzz.sh: SECONDS must be a positive integer" >&2; exit 2; }

scratch=.build-fuzz
echo "fuzz.sh: building cairn-fuzz with -sanitize=fuzzer,address (scratch path $scratch)" >&2
# In batch mode swiftc leaves the coverage counters out of multi-file modules unless asked.
swift build --scratch-path "$scratch" --sanitize fuzzer --sanitize address -Xswiftc -DCAIRN_LIBFUZZER \
  -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table --product cairn-fuzz >&2
bin=$scratch/debug/cairn-fuzz

# Seeds: committed under Fuzz/corpus; written by the binary when a target has none yet.
for t in "${targets[@]}"; do
  if [ ! -d "Fuzz/corpus/$t" ] || [ -z "$(ls -A "Fuzz/corpus/$t" 2>/dev/null)" ]; then
    swift build --product cairn-fuzz >&2
    .build/debug/cairn-fuzz --seeds Fuzz/corpus >&2
    break
  fi
done

run() {
  local t=$1
  mkdir -p "$scratch/corpus/$t" "$scratch/artifacts"
  local log=$scratch/fuzz-$t.log
  echo "fuzz.sh: $t for ${seconds} s" >&2
  local status=0
  ASAN_OPTIONS=detect_leaks=0 CAIRN_FUZZ_TARGET=$t "$bin" "$scratch/corpus/$t" "Fuzz/corpus/$t" \
    -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 -max_len=65536 -timeout=120 -detect_leaks=0 \
    -artifact_prefix="$scratch/artifacts/$t-" >"$log" 2>&1 || status=$?
  local runs corpus counters
  runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  # A binary whose Cairn modules lack coverage counters fuzzes blind: refuse to report it as a run.
  counters=$(grep -m1 'inline 8-bit counters' "$log" | sed 's/.*(\([0-9]*\) inline.*/\1/')
  if [ "${counters:-0}" -lt 50000 ]; then
    echo "FAIL $t: the binary has ${counters:-no} coverage counters (expected the Cairn modules' 100,000+): rebuild $scratch" >&2
    return 1
  fi
  corpus=$(ls "$scratch/corpus/$t" | wc -l)
  if [ "$status" -ne 0 ]; then
    echo "---- $t: libFuzzer exited $status; last lines of $log ----" >&2
    tail -40 "$log" >&2
    echo "FAIL $t after ${runs:-?} executions (inputs in $scratch/artifacts/)"
    return 1
  fi
  echo "ok   $t: ${runs:-?} executions in ${seconds} s, corpus $corpus inputs, $counters coverage counters"
}

failed=0
if [ "$target" = all ]; then
  for t in "${targets[@]}"; do run "$t" || failed=1; done
else
  run "$target" || failed=1
fi
exit "$failed"
