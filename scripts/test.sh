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
# The asan test preset runs with ASAN_OPTIONS=...:intercept_tls_get_addr=0. With it on (GCC 12's libasan on
# Debian 12's glibc 2.36), ASan sometimes records a garbage dynamic-TLS range for a library the plugin pulls in
# with dlopen (libgnutls, libcom_err and libp11-kit have TLS), and LeakSanitizer's scan at exit then crashes
# ("Tracer caught signal 11", exit 1) after a sync that succeeded: seen in reliability.token under load, about
# 1 run in 20 of `connector-host sync --config`, 0 in 80 with the flag. Leak checking itself stays on.
echo "== tests: ASan+UBSan build (LeakSanitizer on)"
ctest --preset asan
