#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the default and the ASan+UBSan
# configurations and the clang tree (the libFuzzer targets, and the product built with clang as a compile check),
# and runs the whole test suite: unit, integration,
# end-to-end, conformance, reliability (default and ASan+UBSan builds) and a short run of every fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
for preset in default asan fuzz; do
  echo "== configure and build: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
done
echo "== tests: default build"
ctest --preset default
echo "== fuzzers: short runs under ASan+UBSan (regression inputs first)"
ctest --preset fuzz
echo "== tests: ASan+UBSan build (LeakSanitizer on)"
ctest --preset asan
