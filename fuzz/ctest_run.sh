#!/usr/bin/env bash
# One CTest fuzz run (fuzz/CMakeLists.txt): replay every regression input once, then fuzz a build-tree copy
# of the seed corpus for a fixed time.
#   ctest_run.sh FUZZER SEED_DIR REGRESSION_DIR WORK_DIR SECONDS
# Every regression input is replayed on its own (libFuzzer stops at the first crash), each failure is
# named, and the run fails without fuzzing when any of them still crashes.
set -uo pipefail
fuzzer=$1 seeds=$2 regressions=$3 work=$4 seconds=$5
name=$(basename "$work")

mapfile -t inputs < <(find "$regressions" -type f ! -name '.*' 2>/dev/null | sort)
if [ "${#inputs[@]}" -gt 0 ]; then
  echo "== replaying ${#inputs[@]} regression input(s) from $regressions"
  failed=0
  for f in "${inputs[@]}"; do
    if out=$("$fuzzer" -rss_limit_mb=2048 -timeout=30 "$f" 2>&1); then
      echo "   ok      $(basename "$f")"
    else
      failed=$((failed + 1))
      echo "   FAILED  $(basename "$f")"
      grep -m3 -E 'INVARIANT FAILED|runtime error|SUMMARY|ERROR: ' <<<"$out" | sed 's/^/           /'
    fi
  done
  if [ "$failed" -gt 0 ]; then
    echo "== $failed regression input(s) still fail: not fuzzing (reproduce: $(basename "$fuzzer") <file>)"
    exit 1
  fi
fi

rm -rf "$work"
mkdir -p "$work"
cp -R "$seeds"/. "$work"/
artifacts=$(dirname "$(dirname "$work")")/artifacts/$name
mkdir -p "$artifacts"
# A fixed seed (FUZZ_SEED, default 1) keeps the short CI run repeatable; fuzz/run.sh explores with random seeds.
seed=${FUZZ_SEED:-1}
echo "== fuzzing $(basename "$fuzzer") for ${seconds}s on $work, seed $seed (crashes go to $artifacts/)"
exec "$fuzzer" -seed="$seed" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$work"
