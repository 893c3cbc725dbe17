#!/usr/bin/env bash
# Installs the ABI package from a build tree into a scratch prefix, then builds the example plugin as a
# third party would (find_package(ConnectorABI) + connector_add_plugin) and checks its exports; then builds and
# runs a tiny C++17 consumer of connector_abi.hpp from the same package.
set -euo pipefail
src=$1
build=$2
work=$3
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/connector/connector_abi.h"
cmake -S "$src/examples/minimal-plugin" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$src/tests/abi/check_exports.sh" "$work/build/example-minimal.so"

# A C++ host-side consumer: connector_abi.hpp is installed and works from the package alone.
test -f "$work/prefix/include/connector/connector_abi.hpp"
cmake -S "$src/tests/abi/cxx-consumer" -B "$work/cxx-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cxx-build" >/dev/null
"$work/cxx-build/cxx-consumer"
