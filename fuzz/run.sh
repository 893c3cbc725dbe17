#!/usr/bin/env bash
# Builds the fuzz tree and runs every fuzz target for a longer time (default 300 s each), one after another.
# Prints, per target: executions (libFuzzer's final stat::number_of_executed_units), executions per
# second, corpus size, and any crash/leak/timeout file written.
#
#   fuzz/run.sh [--seconds N] [--build DIR] [--only NAME]... [--ub-recover] [--jobs N]
#
#   --seconds N    fuzzing time per target (default 300)
#   --build DIR    build directory (default <repo>/build/fuzz; --ub-recover: <repo>/build/fuzz-recover)
#   --only NAME    run only this target (scim_json, paging_planner, scim_url, host_config); repeatable
#   --ub-recover   build with CONNECTOR_FUZZ_UB_RECOVER=ON: undefined behaviour is printed and fuzzing goes
#                  on (to look past a known bug); the distinct UB sites are listed at the end of each run
#   --jobs N       build parallelism (default 2)
#
# Each target fuzzes a working corpus in <build>/fuzz-long/<name>/corpus, seeded from fuzz/corpus/<name>/
# and kept between runs; crashes land in <build>/fuzz-long/<name>/artifacts/. To keep a crash as a
# regression input, copy it to fuzz/regressions/<name>/ (see fuzz/README.md).
# Exit status: 0 when no target crashed, 1 otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
seconds=300
build=
jobs=2
recover=OFF
only=()
all=(scim_json paging_planner scim_url host_config)

while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --only) only+=("$2"); shift 2 ;;
    --ub-recover) recover=ON; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case $seconds in ''|*[!0-9]*) echo "run.sh: --seconds expects a whole number" >&2; exit 2 ;; esac
if [ -z "$build" ]; then
  if [ "$recover" = ON ]; then build=$repo/build/fuzz-recover; else build=$repo/build/fuzz; fi
fi
targets=("${only[@]:-${all[@]}}")
for t in "${targets[@]}"; do
  case " ${all[*]} " in *" $t "*) ;; *) echo "run.sh: no fuzz target '$t' (have: ${all[*]})" >&2; exit 2 ;; esac
done

echo "== configuring and building $build (clang, CONNECTOR_FUZZ=ON, UB recover $recover)"
CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCONNECTOR_FUZZ=ON -DCONNECTOR_BUILD_TESTS=OFF -DCONNECTOR_FUZZ_UB_RECOVER=$recover >/dev/null || exit 1
cmake --build "$build" -j "$jobs" --target $(printf '%s_fuzzer ' "${targets[@]}") || exit 1

status=0
summary=()
for t in "${targets[@]}"; do
  work=$build/fuzz-long/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -R "$here/corpus/$t/." "$work/corpus/"
  before=$(ls "$work/artifacts" | wc -l)
  echo "== $t: fuzzing for ${seconds}s (log: $work/fuzz.log)"
  "$build/bin/${t}_fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -1)
  units=$(ls "$work/corpus" | wc -l)
  line="$t: ${execs:-?} executions (${rate:-?}/s), corpus $units inputs, exit $rc"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -m3 -E 'INVARIANT FAILED|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$work/fuzz.log" | sed 's/^/    /'
  fi
  if [ "$recover" = ON ] && grep -q 'runtime error' "$work/fuzz.log"; then
    echo "    undefined behaviour seen (distinct sites):"
    grep -o '[^ ]*: runtime error: .*' "$work/fuzz.log" | sort -u | sed 's/^/      /'
    status=1
  fi
  after=$(ls "$work/artifacts" | wc -l)
  if [ "$after" -gt "$before" ]; then
    for f in $(ls -t "$work/artifacts" | head -n $((after - before))); do line+=$'\n'"    crash file: $work/artifacts/$f"; done
  fi
  echo "$line"
  summary+=("$line")
done

echo
echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit $status
