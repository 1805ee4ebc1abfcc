#!/usr/bin/env bash
# Checks trace export across real processes (docs/operations.md, "Tracing"): builds cairnd with
# the OpenTelemetry package trait (in .build-otel: a clean build takes several minutes more than
# the default one), starts a small OTLP/HTTP receiver on 127.0.0.50:4318 (Scripts/otlp-receiver.py,
# opentelemetry-proto from PyPI in a venv), three nodes on 127.0.0.1-3 exporting to it, writes 20
# keys through node 1 from 127.0.0.100, and checks that each PUT is one trace: the HTTP span on
# node 1, a client span per replica it asked, and under each the replica's span exported by
# node 2 or 3. Prints the spans per name and per node.
#
#   Scripts/trace-export-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scratch=$root/.build-otel
work=$(mktemp -d /tmp/cairn-trace-export.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "trace-export-check: building cairnd with --traits OpenTelemetry (in .build-otel)"
swift build --traits OpenTelemetry --scratch-path "$scratch" --product cairnd >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
cairnd=$scratch/debug/cairnd
if [ ! -x "$scratch/venv/bin/python" ]; then
  python3 -m venv "$scratch/venv"
  "$scratch/venv/bin/pip" install -q opentelemetry-proto
fi

"$scratch/venv/bin/python" Scripts/otlp-receiver.py 127.0.0.50 4318 "$work/spans.jsonl" &
pids+=($!)
for i in 1 2 3; do
  seeds=()
  [ "$i" -gt 1 ] && seeds=(--seeds 127.0.0.1:7470)
  "$cairnd" --data "$work/node$i" --listen "127.0.0.$i:7470" --http "127.0.0.$i:7480" --cluster trace --partitions 16 \
    --cores 1 --otel-endpoint http://127.0.0.50:4318/v1/traces "${seeds[@]}" >"$work/node$i.log" 2>&1 &
  pids+=($!)
  sleep 0.5
done
for _ in $(seq 1 150); do
  members=$(curl -s --interface 127.0.0.100 http://127.0.0.3:7480/v1/cluster | python3 -c 'import json,sys; print(json.load(sys.stdin)["ring"].get("members", 0))' 2>/dev/null || echo 0)
  [ "$members" = 3 ] && break
  sleep 0.2
done
[ "$members" = 3 ] || { echo "trace-export-check: the ring did not reach 3 members"; tail -20 "$work"/node*.log; exit 1; }
for k in $(seq 1 20); do
  curl -s -f --interface 127.0.0.100 -X PUT -H 'Content-Type: application/octet-stream' --data-binary "v$k" \
    "http://127.0.0.1:7480/v1/keys/traced$k" >/dev/null
done
ids=()
for i in 1 2 3; do
  ids+=("$(curl -s --interface 127.0.0.100 "http://127.0.0.$i:7480/v1/cluster" | python3 -c 'import json,sys; print(json.load(sys.stdin)["node"])')")
done
# The exporter sends in batches (every 5 s by default).
python3 - "$work/spans.jsonl" "${ids[@]}" <<'PY'
import collections, json, os, sys, time
path, node1, node2, node3 = sys.argv[1:5]
deadline = time.time() + 30
while True:
    spans = [json.loads(line) for line in open(path)] if os.path.exists(path) else []
    roots = [s for s in spans if s["name"] == "PUT /v1/keys/{key}"]
    complete = []
    for root in roots:
        trace = [s for s in spans if s["trace"] == root["trace"]]
        asked = [s for s in trace if s["name"] == "cairn.peer replicate" and s["parent"] == root["span"] and s["node"] == node1]
        answered = [s for s in trace if s["name"] == "cairn.replica replicate" and s["parent"] in {a["span"] for a in asked}]
        if root["node"] == node1 and root["parent"] is None and len(asked) == 2 and {s["node"] for s in answered} == {node2, node3}:
            complete.append(root["trace"])
    if len(complete) == 20 or time.time() > deadline:
        break
    time.sleep(1)
by_name = collections.Counter(s["name"] for s in spans)
by_node = collections.Counter({node1: "node 1", node2: "node 2", node3: "node 3"}.get(s["node"], "?") for s in spans)
print(f"trace-export-check: {len(spans)} spans exported; by name {dict(by_name)}; by node {dict(by_node)}")
print(f"trace-export-check: {len(complete)} of 20 PUTs are one trace across the three processes")
sys.exit(0 if len(complete) == 20 else 1)
PY
