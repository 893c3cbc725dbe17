#!/usr/bin/env bash
# Resuming an interrupted sync (issue 19): on the issue's org (100,000 users, 2,000 groups, 300,000 memberships,
# 20 ms injected latency), a full sync; then the same sync interrupted (SIGINT, as Ctrl-C) at about 70% of the
# full sync's wall time; then a sync resumed from the interrupted one's last checkpoint token (--resume-from).
# Prints the requests and wall of each, the ratios resumed / full (target <= 0.35 each), and checks that the
# records delivered before the checkpoint plus the resumed sync's are exactly the full sync's, each once.
#
#   bench/resume.sh [--users N] [--groups N] [--members N] [--latency-ms MS] [--at FRACTION] [--build DIR]
#                   [--set NAME=VALUE]...   (plugin config for all three syncs, e.g. checkpoint-interval-ms=1000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
users=100000 groups=2000 members=300000 latency=20 build="$root/build/bench" at=0.7
sets=()
. "$root/bench/lib.sh"
while [ $# -gt 0 ]; do
  if bench_org_option "$1" "${2:-}"; then shift 2; continue; fi
  case "$1" in
    --at) at=$2; shift 2 ;;
    --set) sets+=(--set "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bench_prepare connector-host claude-enterprise scim-sim

# host_sync OUT [ARGS...]: an NDJSON sync to OUT through a pipe (streamed, in delivery order); sets wall reqs rc.
host_sync() {
  local out=$1; shift
  reset_stats
  local t0; t0=$(date +%s.%N)
  set +e
  SCIM_URL="$url" SCIM_TOKEN="$token" "$build/bin/connector-host" --plugins-dir "$build/plugins" --log-level info \
    sync claude-enterprise --format ndjson "${sets[@]}" "$@" 2>"$work/sync.err" | cat >"$out"
  rc=${PIPESTATUS[0]}
  set -e
  wall=$(echo "$(date +%s.%N) - $t0" | bc -l)
  reqs=$(stat_requests)
}
# records FILE: the record lines (resources, entitlements, grants) of an NDJSON sync, sorted.
records() { grep -E '"kind":"(resource|entitlement|grant)"' "$1" | LC_ALL=C sort; }

echo "== org: $users users, $groups groups, ~$members memberships; latency ${latency} ms; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); commit $(git -C "$root" rev-parse --short HEAD)"
start_sim "$users" "$groups" "$members" "$latency"

host_sync "$work/full.ndjson"
[ "$rc" = 0 ] || { cat "$work/sync.err" >&2; exit 1; }
full_wall=$wall full_reqs=$reqs
printf 'full sync:        %6d requests, %6.2f s, %d checkpoints\n' "$full_reqs" "$full_wall" \
  "$(grep -c '"kind":"checkpoint"' "$work/full.ndjson")"

stop_after=$(echo "$full_wall * $at" | bc -l)
( sleep "$stop_after"; pkill -INT -f "connector-host --plugins-dir $build/plugins" ) &
killer=$!
host_sync "$work/part.ndjson"
wait "$killer" || true
part_wall=$wall part_reqs=$reqs
last=$(grep -n '"kind":"checkpoint"' "$work/part.ndjson" | tail -n 1 | cut -d: -f1)
[ -n "$last" ] || { echo "the interrupted sync (exit $rc after $part_wall s) gave no checkpoint" >&2; exit 1; }
resume_token=$(sed -n "${last}p" "$work/part.ndjson" | grep -o '"token":"[^"]*"' | cut -d'"' -f4)
head -n "$last" "$work/part.ndjson" >"$work/before.ndjson"
printf 'interrupted:      %6d requests, %6.2f s (SIGINT at %.2f s, exit %s); %d of %d records came before its last checkpoint\n' \
  "$part_reqs" "$part_wall" "$stop_after" "$rc" "$(records "$work/before.ndjson" | wc -l)" "$(records "$work/full.ndjson" | wc -l)"

host_sync "$work/rest.ndjson" --resume-from "$resume_token"
[ "$rc" = 0 ] || { cat "$work/sync.err" >&2; exit 1; }
res_wall=$wall res_reqs=$reqs
printf 'resumed:          %6d requests, %6.2f s\n' "$res_reqs" "$res_wall"

records "$work/full.ndjson" >"$work/full.sorted"
{ records "$work/before.ndjson"; records "$work/rest.ndjson"; } | LC_ALL=C sort >"$work/joined.sorted"
dups=$(uniq -d "$work/joined.sorted" | wc -l)
if cmp -s "$work/full.sorted" "$work/joined.sorted"; then exact="yes"; else exact="NO ($dups duplicated lines; diff $(diff "$work/full.sorted" "$work/joined.sorted" | grep -c '^[<>]') lines)"; fi
echo
printf '| figure | measured | target |\n| --- | --- | --- |\n'
printf '| resumed requests / full requests | %d / %d = %.3f | <= 0.35 |\n' "$res_reqs" "$full_reqs" "$(echo "$res_reqs / $full_reqs" | bc -l)"
printf '| resumed wall / full wall | %.2f s / %.2f s = %.3f | <= 0.35 |\n' "$res_wall" "$full_wall" "$(echo "$res_wall / $full_wall" | bc -l)"
printf '| interrupted + resumed requests / full | %.3f | |\n' "$(echo "($part_reqs + $res_reqs) / $full_reqs" | bc -l)"
printf '| before the checkpoint + resumed = full sync, each record once | %s | yes |\n' "$exact"
[ "$exact" = yes ]
