#!/bin/sh
# Shows that connector-host's memory stays flat however large the sync: runs a sync of N synthetic users
# (the host test plugin) for growing N and prints the peak RSS and time of each run. Not a test: a figure.
# usage: host/bench/sync_memory.sh <build-dir> [N...]
set -eu
build=${1:?usage: $0 <build-dir> [N...]}
shift
[ $# -gt 0 ] || set -- 10000 100000 1000000
host=$build/bin/connector-host
plugin=$build/host-test-plugins/host-test.so
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for n in "$@"; do
  for format in json ndjson table; do
    SERVICE_URL=https://bench.invalid API_TOKEN=good-bench-token USERS=$n \
      /usr/bin/time -f "users=$n format=$format peak_rss_kb=%M seconds=%e" \
      "$host" sync "$plugin" --format "$format" --out "$out/sync.$format" 2>&1 >/dev/null | grep '^users='
  done
done
