#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: system packages first, then `swift test`.
# Extra arguments go to `swift test` (for example: ./Scripts/test.sh --filter KeydirTests).
set -euo pipefail
cd "$(dirname "$0")/.."
./Scripts/setup.sh
swift build --build-tests
swift test --skip-build "$@"
