#!/usr/bin/env bash
# check_debian_package.sh <build-dir> <work-dir>
# Builds the Debian package with `cpack -G DEB`, checks its control fields and contents, unpacks it into a
# scratch root (dpkg-deb -x: no root rights needed, nothing installed on this machine) and runs the unpacked
# connector-host and demo with no flags.
set -euo pipefail
build=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || fail "cpack -G DEB: $(tail -n 20 "$work/cpack.log")"
deb=$(find "$work/out" -maxdepth 1 -name 'claude-enterprise-connector_*.deb' | head -n 1)
[ -n "$deb" ] || fail "no claude-enterprise-connector_*.deb in $work/out"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libcurl4 libsqlite3-0 libstdc++6 libc6; do
  case "$depends" in *"$lib"*) ;; *) fail "Depends lacks $lib: $depends" ;; esac
done
dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/bin/connector-host ./usr/bin/connector-conformance ./usr/bin/scim-sim \
         ./usr/lib/connector/plugins/claude-enterprise.so ./usr/include/connector/connector_abi.h \
         ./usr/share/connector/demo.sh ./usr/lib/cmake/ConnectorABI/ConnectorABIConfig.cmake; do
  grep -q " $f\$" "$work/contents" || fail "the package lacks $f"
done
dpkg-deb -x "$deb" "$work/root"
unset CONNECTOR_PLUGINS_DIR SCIM_URL SCIM_TOKEN ADMIN_API_KEY
cd "$work"
"$work/root/usr/bin/connector-host" plugins --json | grep -q '"id":"claude-enterprise"' ||
  fail "the unpacked connector-host does not find the unpacked plugin"
"$work/root/usr/share/connector/demo.sh" >"$work/demo.log" 2>&1 || fail "unpacked demo failed: $(tail -n 30 "$work/demo.log")"
grep -q "^Demo complete" "$work/demo.log" || fail "unpacked demo did not complete"
echo "package OK: $(basename "$deb"), Depends: $depends"
