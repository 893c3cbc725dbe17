#!/usr/bin/env bash
# Builds scim-sim-bench in an optimised build directory and prints the simulator's performance figures.
# Usage: sim/bench/run.sh [--build-dir DIR] [scim-sim-bench flags: --users --groups --members --threads --seconds]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/build/sim-release"
if [ "${1:-}" = "--build-dir" ]; then
  build="$2"
  shift 2
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target scim-sim-bench -j 2 >/dev/null
"$build/bin/scim-sim-bench" "$@"
