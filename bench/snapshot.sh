#!/usr/bin/env bash
# Snapshot benchmark (issue 17): what writing an SQLite snapshot costs against writing JSON, and how fast the
# questions are answered from it.
#
#   bench/snapshot.sh [--users N] [--groups G] [--members M] [--runs R] [--build DIR] [--prebuilt]
#
# Starts scim-sim on loopback with the org at zero latency, then measures connector-host sync to org.json and
# to a new org.db (wall, CPU = user + system, peak RSS; medians of --runs runs), the ratio against the target
# (at most 1.3x), then the second, third and fourth runs into the same snapshot (from the third on, each drops the oldest) and the wall time of access, members, stats,
# grants --principal, resources --type user and diff on it. --prebuilt uses the binaries already in --build
# (e.g. build/default) instead of a Release build in build/bench.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
users=100000 groups=2000 members=300000 latency=0 build="$root/build/bench" runs=1 prebuilt=0
. "$root/bench/lib.sh"
while [ $# -gt 0 ]; do
  if bench_org_option "$1" "${2:-}"; then shift 2; continue; fi
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --prebuilt) prebuilt=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

command -v /usr/bin/time >/dev/null || { echo "bench needs GNU time (apt-get install time)" >&2; exit 1; }
if [ "$prebuilt" = 1 ]; then bench_workdir; else bench_prepare connector-host claude-enterprise scim-sim; fi
host="$build/bin/connector-host"

# timed_sync <out>: sets wall cpu rss_mb
timed_sync() {
  SCIM_URL="$url" SCIM_TOKEN="$token" /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$host" --plugins-dir "$build/plugins" --log-level error sync claude-enterprise --out "$1" \
    2>"$work/sync.err" || { cat "$work/sync.err" >&2; exit 1; }
  read -r wall user sys rss <"$work/time"
  cpu=$(echo "$user + $sys" | bc -l)
  rss_mb=$(echo "$rss / 1024" | bc -l)
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# measure <label> <out> <fresh:1|0>: median wall/cpu/rss of --runs syncs into <out>, in W/C/R[label]
declare -A W C R
measure() {
  local walls=() cpus=() rsss=()
  for ((i = 0; i < runs; i++)); do
    [ "$3" = 1 ] && rm -f "$2"
    timed_sync "$2"
    walls+=("$wall"); cpus+=("$cpu"); rsss+=("$rss_mb")
  done
  W[$1]=$(printf '%s\n' "${walls[@]}" | median)
  C[$1]=$(printf '%s\n' "${cpus[@]}" | median)
  R[$1]=$(printf '%s\n' "${rsss[@]}" | median)
  tail -n 1 "$work/sync.err"
}

# query_time <args...>: wall seconds of one connector-host question (output to /dev/null)
query_time() {
  /usr/bin/time -f '%e' -o "$work/qtime" "$host" "$@" --format json >/dev/null 2>"$work/q.err" || [ $? -eq 1 ] ||
    { cat "$work/q.err" >&2; exit 1; }
  cat "$work/qtime"
}

echo "== org: $users users, $groups groups, ~$members memberships; latency ${latency} ms; $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
start_sim "$users" "$groups" "$members" "$latency"
measure json "$work/org.json" 1
measure sqlite "$work/org.db" 1
printf '%-40s %10s %10s %10s\n' "figure" "json" "sqlite" "ratio"
for f in wall cpu; do
  if [ $f = wall ]; then a=${W[json]} b=${W[sqlite]}; else a=${C[json]} b=${C[sqlite]}; fi
  printf '%-40s %9.2fs %9.2fs %9.2fx  (target <= 1.3x)\n' "sync $f, zero latency" "$a" "$b" "$(echo "$b / $a" | bc -l)"
done
printf '%-40s %8.1fMB %8.1fMB\n' "peak RSS" "${R[json]}" "${R[sqlite]}"
printf '%-40s %8.1fMB %8.1fMB\n' "file size" "$(echo "$(stat -c %s "$work/org.json") / 1048576" | bc -l)" \
  "$(echo "$(stat -c %s "$work/org.db") / 1048576" | bc -l)"

# Later runs into the same file: the second adds a run beside the first; from the third on each run also drops
# the oldest (--keep 2, the default): the steady state of a scheduled sync.
for nth in second third fourth; do
  timed_sync "$work/org.db"
  printf '%-40s %9.2fs %9.2fs %9.2fx %6.2fx  (wall, CPU; ratios to the JSON above)\n' "the $nth run into the same snapshot" \
    "$wall" "$cpu" "$(echo "$wall / ${W[json]}" | bc -l)" "$(echo "$cpu / ${C[json]}" | bc -l)"
  printf '%-40s %8.1fMB\n' "its peak RSS" "$rss_mb"
done
user_id=$(sqlite3 "$work/org.db" "select principal_id from grants where principal_type = 'user' limit 1 offset 1000")
group=$(sqlite3 "$work/org.db" "select resource_type || ':' || resource_id from entitlements limit 1 offset 10")
echo "questions on the two-run snapshot ($(stat -c %s "$work/org.db") bytes), wall seconds (one run each):"
printf '  %-44s %s\n' "access user:$user_id" "$(query_time access "$work/org.db" "user:$user_id")"
printf '  %-44s %s\n' "members $group" "$(query_time members "$work/org.db" "$group")"
printf '  %-44s %s\n' "grants --principal user:$user_id" "$(query_time grants "$work/org.db" --principal "user:$user_id")"
printf '  %-44s %s\n' "stats" "$(query_time stats "$work/org.db")"
printf '  %-44s %s\n' "resources --type user (every user, JSON)" "$(query_time resources "$work/org.db" --type user)"
printf '  %-44s %s\n' "diff (the last two runs)" "$(query_time diff "$work/org.db")"
