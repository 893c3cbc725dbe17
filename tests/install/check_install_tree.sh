#!/usr/bin/env bash
# check_install_tree.sh <build-dir> <work-dir>
# Installs the build into <work-dir>/prefix and uses it as a user would: no --plugins-dir, no
# CONNECTOR_PLUGINS_DIR, nothing from the build tree on any path.
set -euo pipefail
build=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
fail() { echo "FAIL: $*" >&2; exit 1; }

for f in bin/connector-host bin/connector-conformance bin/scim-sim share/connector/demo.sh; do
  [ -x "$prefix/$f" ] || fail "$f is not installed (or not executable)"
done
for f in lib/connector/plugins/claude-enterprise.so include/connector/connector_abi.h \
         include/connector/connector_abi.hpp lib/cmake/ConnectorABI/ConnectorABIConfig.cmake; do
  [ -f "$prefix/$f" ] || fail "$f is not installed"
done
# Nothing of the test suite is installed: no fixture plugin, no example.
extra=$(find "$prefix/lib/connector/plugins" -type f ! -name claude-enterprise.so)
[ -z "$extra" ] || fail "the plugins directory holds more than the plugin: $extra"

unset CONNECTOR_PLUGINS_DIR SCIM_URL SCIM_TOKEN ADMIN_API_KEY
cd "$work"   # no plugins/ in the working directory either
"$prefix/bin/connector-host" plugins --json >"$work/plugins.json"
grep -q '"id":"claude-enterprise"' "$work/plugins.json" || fail "installed connector-host plugins does not list the plugin: $(cat "$work/plugins.json")"
grep -q "\"$prefix/lib/connector/plugins/claude-enterprise.so\"" "$work/plugins.json" ||
  fail "the plugin listed is not the installed one: $(cat "$work/plugins.json")"
"$prefix/bin/connector-host" describe claude-enterprise --json | grep -q '"config_fields"' || fail "describe by id failed"
# The conformance runner finds the plugin by id the host's way, and scim-sim beside it.
"$prefix/bin/connector-conformance" claude-enterprise --sim --level 3 >"$work/conformance.log" 2>&1 ||
  fail "installed connector-conformance claude-enterprise --sim --level 3: $(tail -n 20 "$work/conformance.log")"

# The installed demo: every step against the installed programs only.
"$prefix/share/connector/demo.sh" >"$work/demo.log" 2>&1 || fail "installed demo failed: $(tail -n 30 "$work/demo.log")"
grep -q "^Demo complete" "$work/demo.log" || fail "installed demo did not complete"
grep -q "$prefix/lib/connector/plugins/claude-enterprise.so" "$work/demo.log" ||
  fail "the installed demo did not use the installed plugin"
echo "installed tree OK: $(find "$prefix" -type f | wc -l) files"
