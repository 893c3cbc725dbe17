#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the default and the ASan+UBSan
# configurations, and runs the whole test suite (unit, integration, end-to-end, conformance) in both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
for preset in default asan; do
  echo "== configure and build: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
done
echo "== tests: default build"
ctest --preset default
echo "== tests: ASan+UBSan build"
ctest --preset asan
