#!/usr/bin/env bash
# One CTest fuzz run: replay every regression input once, then fuzz a build-tree copy of the seed corpus
# for a fixed time. Usage: ctest_run.sh FUZZER SEED_DIR REGRESSION_DIR WORK_DIR SECONDS
set -euo pipefail
fuzzer=$1 seeds=$2 regressions=$3 work=$4 seconds=$5

mapfile -t inputs < <(find "$regressions" -type f ! -name '.*' 2>/dev/null | sort)
if [ "${#inputs[@]}" -gt 0 ]; then
  echo "== replaying ${#inputs[@]} regression input(s) from $regressions"
  "$fuzzer" -rss_limit_mb=2048 -timeout=30 "${inputs[@]}"
fi

rm -rf "$work"
mkdir -p "$work"
cp -R "$seeds"/. "$work"/
artifacts=$(dirname "$work")/artifacts/$(basename "$work")
mkdir -p "$artifacts"
echo "== fuzzing $(basename "$fuzzer") for ${seconds}s on $work (crashes go to $artifacts/)"
exec "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$work"
