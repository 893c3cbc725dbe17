#!/usr/bin/env bash
# Runs the demo against an already-built tree: scripts/demo-run.sh <build-dir>
set -euo pipefail
build=${1:-build/default}
host="$build/bin/connector-host"
echo "\$ connector-host plugins"
"$host" --plugins-dir "$build/plugins" plugins
echo
echo "\$ connector-host describe claude-enterprise"
"$host" --plugins-dir "$build/plugins" describe claude-enterprise
