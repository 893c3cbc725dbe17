#!/usr/bin/env bash
# Sync benchmark (issue 7): how fast, how cheap and how flat a full sync of a large organisation is.
#
#   bench/sync.sh [--users N] [--groups G] [--members M] [--latency-ms L] [--rate-limit R] [--build DIR]
#                 [--scale-check]
#
# Starts scim-sim on loopback with the org and an injected latency, then in one run measures:
#   1. connector-host sync at concurrency 1 and at the plugin's default concurrency (wall time, requests,
#      CPU time of host+plugin, peak RSS);
#   2. what a user would pick instead: the simple sequential client (one keep-alive curl: user pages, then group
#      pages with their members, 100 a page: the least requests any client needs), and the connector's own page
#      pattern walked the same way;
#   3. the floor: requests x latency / concurrency, and requests / least needed;
#   4. CPU time with zero injected latency (output to a file);
#   4b. behind scim-sim --rate-limit R (default 50) with no latency: requests, 429s, wall / (least requests / R);
#   5. with --scale-check, peak RSS for an org 10x larger (zero latency), and how much of it the process costs
#      before any sync.
# Prints every figure with its target and the ratio. Timings are medians of --runs runs (default 1).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
users=100000 groups=2000 members=300000 latency=20 build="$root/build/bench" scale=0 runs=1 rate=50 def=16
. "$root/bench/lib.sh"
while [ $# -gt 0 ]; do
  if bench_org_option "$1" "${2:-}"; then shift 2; continue; fi
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --rate-limit) rate=$2; shift 2 ;;
    --scale-check) scale=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

command -v /usr/bin/time >/dev/null || { echo "bench needs GNU time (apt-get install time)" >&2; exit 1; }
bench_prepare connector-host claude-enterprise scim-sim

# run_sync <label> <concurrency> <out-file>: sets wall cpu rss reqs
run_sync() {
  reset_stats
  SCIM_URL="$url" SCIM_TOKEN="$token" /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$build/bin/connector-host" --plugins-dir "$build/plugins" --log-level error sync claude-enterprise \
    --set concurrency="$2" --out "$3" 2>"$work/sync.err" || { cat "$work/sync.err" >&2; exit 1; }
  read -r wall user sys rss <"$work/time"
  cpu=$(echo "$user + $sys" | bc -l)
  rss_mb=$(echo "$rss / 1024" | bc -l)
  reqs=$(stat_requests)
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "== org: $users users, $groups groups, ~$members memberships; latency ${latency} ms; $(nproc) cores; $(date -u +%Y-%m-%d)"
start_sim "$users" "$groups" "$members" "$latency"
printf 'simulator seeded and listening in %.2f s\n' "$seed_s"

declare -A W C R Q
for conc in 1 8 "$def"; do
  walls=(); cpus=(); rsss=()
  for ((i = 0; i < runs; i++)); do
    run_sync "c$conc" "$conc" "$work/org-c$conc.json"
    walls+=("$wall"); cpus+=("$cpu"); rsss+=("$rss_mb")
  done
  W[$conc]=$(printf '%s\n' "${walls[@]}" | median)
  C[$conc]=$(printf '%s\n' "${cpus[@]}" | median)
  R[$conc]=$(printf '%s\n' "${rsss[@]}" | median)
  Q[$conc]=$reqs
  tail -n 1 "$work/sync.err"
done

# What a user would pick instead: the simple sequential client, one keep-alive curl walking user pages, then group
# pages with their members (which SCIM servers include by default), 100 a page: the least requests any client needs.
{
  echo "header = \"Authorization: Bearer $token\""
  echo "header = \"Accept: application/scim+json\""
  for ((s = 1; s <= users; s += 100)); do echo "url = \"$url/Users?startIndex=$s&count=100\""; echo "output = /dev/null"; done
  for ((s = 1; s <= groups; s += 100)); do echo "url = \"$url/Groups?startIndex=$s&count=100\""; echo "output = /dev/null"; done
} >"$work/simple.cfg"
least_reqs=$(grep -c '^url' "$work/simple.cfg")
reset_stats
t0=$(date +%s.%N)
curl -s --fail -K "$work/simple.cfg"
simple_wall=$(echo "$(date +%s.%N) - $t0" | bc -l)

# The connector's own page pattern, one after another (the figure this bench printed before issue 16): user pages
# and group pages of 100 overlapping by one resource (the edge check), as the connector's first pass asks for them.
{
  echo "header = \"Authorization: Bearer $token\""
  echo "header = \"Accept: application/scim+json\""
  for ((s = 1; s == 1 || s + 1 <= users; s += 99)); do echo "url = \"$url/Users?startIndex=$s&count=100&excludedAttributes=groups\""; echo "output = /dev/null"; done
  for ((s = 1; s == 1 || s + 1 <= groups; s += 99)); do echo "url = \"$url/Groups?startIndex=$s&count=100\""; echo "output = /dev/null"; done
} >"$work/curl.cfg"
curl_reqs=$(grep -c '^url' "$work/curl.cfg")
reset_stats
t0=$(date +%s.%N)
curl -s --fail -K "$work/curl.cfg"
curl_wall=$(echo "$(date +%s.%N) - $t0" | bc -l)

floor8=$(echo "${Q[8]} * $latency / 1000 / 8" | bc -l)
floord=$(echo "${Q[$def]} * $latency / 1000 / $def" | bc -l)
floor1=$(echo "${Q[1]} * $latency / 1000" | bc -l)

# CPU with zero latency.
start_sim "$users" "$groups" "$members" 0
run_sync zero "$def" "$work/org-zero.json"
zero_wall=$wall zero_cpu=$cpu zero_rss=$rss_mb
# The same sync streamed (NDJSON on stdout, in the order received): what the sync costs without the host's stable
# order of a file (a spool sorted on disk), to tell the two apart.
reset_stats
SCIM_URL="$url" SCIM_TOKEN="$token" /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
  "$build/bin/connector-host" --plugins-dir "$build/plugins" --log-level error sync claude-enterprise \
  --format ndjson >/dev/null 2>"$work/sync.err" || { cat "$work/sync.err" >&2; exit 1; }
read -r stream_wall user sys rss <"$work/time"
stream_cpu=$(echo "$user + $sys" | bc -l)

# Behind a rate limit (no latency): the pace learnt from the 429s.
start_sim "$users" "$groups" "$members" 0 --rate-limit "$rate"
run_sync limited "$def" "$work/org-limited.json"
limited_wall=$wall limited_reqs=$reqs limited_429=$(stat_fault rate_limit)
limited_floor=$(echo "$least_reqs / $rate" | bc -l)

printf '\n%-52s %12s %12s %10s\n' "figure" "measured" "target" "ratio"
row() { printf '%-52s %12s %12s %10s\n' "$1" "$2" "$3" "$4"; }
row "wall, concurrency 1 (s)" "$(printf %.2f "${W[1]}")" "" ""
row "wall, concurrency 8 (s)" "$(printf %.2f "${W[8]}")" "" ""
row "wall, concurrency $def (default) (s)" "$(printf %.2f "${W[$def]}")" "" ""
row "requests, concurrency 1 / 8 / $def" "${Q[1]} / ${Q[8]} / ${Q[$def]}" "" ""
row "simple sequential client (s, $least_reqs req)" "$(printf %.2f "$simple_wall")" "" ""
row "speed-up vs the simple client (x)" "$(printf %.2f "$(echo "$simple_wall / ${W[$def]}" | bc -l)")" ">= 6" \
    "$(printf %.2f "$(echo "$simple_wall / ${W[$def]} / 6" | bc -l)")"
row "speed-up vs the simple client, concurrency 8 (x)" "$(printf %.2f "$(echo "$simple_wall / ${W[8]}" | bc -l)")" "" ""
row "requests / least needed (x)" "$(printf %.3f "$(echo "${Q[$def]} / $least_reqs" | bc -l)")" "<= 1.1" \
    "$(printf %.2f "$(echo "${Q[$def]} / $least_reqs / 1.1" | bc -l)")"
row "curl walk of the connector's pages (s, $curl_reqs req)" "$(printf %.2f "$curl_wall")" "" ""
row "speed-up vs that walk (x)" "$(printf %.2f "$(echo "$curl_wall / ${W[$def]}" | bc -l)")" "" ""
row "floor: requests x latency / $def (s)" "$(printf %.2f "$floord")" "" ""
row "wall / floor at concurrency $def (x)" "$(printf %.2f "$(echo "${W[$def]} / $floord" | bc -l)")" "<= 1.3" \
    "$(printf %.2f "$(echo "${W[$def]} / $floord / 1.3" | bc -l)")"
row "wall / floor at concurrency 8 (x)" "$(printf %.2f "$(echo "${W[8]} / $floor8" | bc -l)")" "" ""
row "wall / floor at concurrency 1 (x)" "$(printf %.2f "$(echo "${W[1]} / $floor1" | bc -l)")" "" ""
row "CPU host+plugin, concurrency $def, ${latency} ms (s)" "$(printf %.2f "${C[$def]}")" "" ""
row "CPU host+plugin, zero latency (s)" "$(printf %.2f "$zero_cpu")" "< 2" "$(printf %.2f "$(echo "$zero_cpu / 2" | bc -l)")"
row "wall, zero latency (s)" "$(printf %.2f "$zero_wall")" "" ""
row "CPU / wall, zero latency, NDJSON streamed, unsorted (s)" "$(printf '%.2f / %.2f' "$stream_cpu" "$stream_wall")" "" ""
row "peak RSS host+plugin (MB)" "$(printf %.1f "${R[$def]}")" "< 64" "$(printf %.2f "$(echo "${R[$def]} / 64" | bc -l)")"
row "rate limit $rate/s: requests, 429s" "$limited_reqs, $limited_429" "" ""
row "rate limit $rate/s: 429s / requests (%)" "$(printf %.2f "$(echo "$limited_429 * 100 / $limited_reqs" | bc -l)")" \
    "<= 1" "$(printf %.2f "$(echo "$limited_429 * 100 / $limited_reqs" | bc -l)")"
row "rate limit $rate/s: wall (s)" "$(printf %.2f "$limited_wall")" "" ""
row "rate limit $rate/s: wall / (least / $rate) (x)" "$(printf %.3f "$(echo "$limited_wall / $limited_floor" | bc -l)")" \
    "<= 1.15" "$(printf %.2f "$(echo "$limited_wall / $limited_floor / 1.15" | bc -l)")"

if [ "$scale" = 1 ]; then
  start_sim $((users * 10)) $((groups * 10)) $((members * 10)) 0
  run_sync scale "$def" "$work/org-scale.json"
  growth=$(echo "($rss_mb / $zero_rss - 1) * 100" | bc -l)
  row "wall / CPU host+plugin, org x10, zero latency (s)" "$(printf '%.2f / %.2f' "$wall" "$cpu")" "" ""
  row "peak RSS, org x10, zero latency (MB)" "$(printf %.1f "$rss_mb")" "" ""
  row "RSS growth for org x10 (%)" "$(printf %.1f "$growth")" "< 20" "$(printf %.2f "$(echo "$growth / 20" | bc -l)")"
  # Where the growth is: what the process costs before any sync (host + plugin loaded, libcurl and TLS set up),
  # and what a sync adds on top of that at each size.
  /usr/bin/time -f '%M' -o "$work/time" "$build/bin/connector-host" --plugins-dir "$build/plugins" \
    describe claude-enterprise >/dev/null
  base_mb=$(echo "$(cat "$work/time") / 1024" | bc -l)
  row "RSS of the host with the plugin loaded, no sync (MB)" "$(printf %.1f "$base_mb")" "" ""
  row "added by the sync, org x1 / x10 (MB)" \
    "$(printf '%.1f / %.1f' "$(echo "$zero_rss - $base_mb" | bc -l)" "$(echo "$rss_mb - $base_mb" | bc -l)")" "" ""
  # The user ids past the plugin's index-memory-kb (2048 KiB, ~196k ids) live in a temporary file instead.
  row "x10 user ids kept on disk instead (MB; 8 B a user)" \
    "$(printf %.1f "$(echo "$users * 10 * 8 / 1048576" | bc -l)")" "" ""
fi
stop_sim
