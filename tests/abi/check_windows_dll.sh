#!/usr/bin/env bash
# Proves the .dll half of the ABI: the header and the minimal example plugin cross-compile with
# mingw-w64 under strict flags, and the .dll exports only the entry symbol.
set -euo pipefail
src=$1
out=$2
cc=x86_64-w64-mingw32-gcc
cxx=x86_64-w64-mingw32-g++
command -v "$cc" >/dev/null || { echo "FAIL: $cc not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$out"
"$cc" -std=c99 -Wall -Wextra -pedantic -Werror -fsyntax-only -I"$src/abi/include" -x c "$src/abi/include/connector/connector_abi.h"
"$cxx" -std=c++20 -Wall -Wextra -pedantic -Werror -fsyntax-only -I"$src/abi/include" -x c++ "$src/abi/include/connector/connector_abi.h"
"$cc" -std=c99 -O2 -Wall -Wextra -pedantic -Werror -shared -I"$src/abi/include" \
  "$src/examples/minimal-plugin/minimal_plugin.c" -o "$out/example-minimal.dll"
exports=$(x86_64-w64-mingw32-objdump -p "$out/example-minimal.dll" |
  sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | awk 'NR>1 && NF {print $NF}')
echo "example-minimal.dll exports: $exports"
[ "$exports" = "connector_plugin_entry" ] || { echo "FAIL: expected only connector_plugin_entry" >&2; exit 1; }
