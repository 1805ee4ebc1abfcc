#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: system packages first, then `swift test`.
# Extra arguments go to `swift test` (for example: ./Scripts/test.sh --filter KeydirTests).
#
# Without arguments the suite runs in two phases: everything in-process first, then the
# multi-process tests (real cairnd processes on 127.0.0.1–9, Tests/CairnNodeTests) on their
# own, so their process waits and sleeps never compete with the socket tests' deadlines for
# the few threads of Swift's cooperative pool.
set -euo pipefail
cd "$(dirname "$0")/.."
./Scripts/setup.sh
swift build --build-tests
if [ $# -gt 0 ]; then
  swift test --skip-build "$@"
else
  swift test --skip-build --skip CairnNodeTests
  swift test --skip-build --filter CairnNodeTests
fi
