#!/usr/bin/env bash
# Asserts that a plugin .so exports exactly one symbol of its own: connector_plugin_entry.
set -euo pipefail
plugin=$1
symbols=$(nm -D --defined-only "$plugin" | awk '{print $3}' | grep -v '^$' | sort)
echo "exported by $(basename "$plugin"):"
echo "$symbols" | sed 's/^/  /'
if [ "$symbols" != "connector_plugin_entry" ]; then
  echo "FAIL: expected exactly connector_plugin_entry" >&2
  exit 1
fi
