#!/usr/bin/env bash
# The README's demo command: installs what is missing, builds, starts the SCIM simulator with a
# sample organisation, and walks the host through describe, check, sync and provisioning.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
exec scripts/demo-run.sh build/default
