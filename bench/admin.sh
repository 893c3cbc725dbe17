#!/usr/bin/env bash
# Admin API sync benchmark (issue 14): under the API's per-minute limit the request count is the speed.
#
#   bench/admin.sh [--rate N] [--latency-ms L] [--build DIR]
#
# Starts scim-sim on loopback serving the Admin API with an organisation of 20,000 members (13,258 through SCIM:
# the active ones of 14,000 SCIM users at seed 42; 6,742 direct), 400 groups (200 SCIM, 200 direct), 20 custom roles and 300 invites, enforcing --rate requests a
# minute (default 600), then syncs it with connector-host through the Admin API at admin-api-rate-limit = --rate
# and prints:
#   - requests made vs the least any client needs at limit=1000 (computed from the simulator's truth: one page a
#     1,000 members, invites, groups and roles, and one a 1,000 members of each group, at least one a group);
#   - wall vs the floor, that least / rate;
#   - 429s received (the simulator counts them);
#   - how many of those requests read the members of SCIM groups;
#   - then the same org synced with SCIM also configured (the scim groups' members then come through SCIM):
#     Admin API requests, SCIM requests, 429s and wall, against the Admin-only least and floor.
# Targets: requests <= 1.05x the least, wall <= 1.1x the floor, zero 429s.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rate=600 latency=5 build="$root/build/bench"
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --latency-ms) latency=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
users=0 groups=0 members=0
. "$root/bench/lib.sh"
command -v /usr/bin/time >/dev/null || { echo "bench needs GNU time (apt-get install time)" >&2; exit 1; }
bench_prepare connector-host claude-enterprise scim-sim
key="sk-ant-api01-bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s' "$key" >"$work/key"

rm -f "$work/sim.out"; mkfifo "$work/sim.out"
"$build/bin/scim-sim" --port 0 --token-file "$work/token" --admin-key-file "$work/key" --seed 42 \
  --seed-users 14000 --seed-groups 200 --seed-members 42000 --seed-direct-users 6742 --seed-direct-groups 200 \
  --seed-roles 20 --seed-invites 300 --admin-rate-limit "$rate" --latency-ms "$latency" \
  >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
read -r word url <"$work/sim.out" || true
[ "${word:-}" = "LISTENING" ] || { cat "$work/sim.err" >&2; exit 1; }
origin="${url%%/scim*}"
admin="$origin/_admin"

curl -s "$admin/state" >"$work/state.json"
read -r least scim_group_reqs n_members n_groups n_roles n_invites < <(python3 - "$work/state.json" <<'PY'
import json, math, sys
s = json.load(open(sys.argv[1]))
pages = lambda n: max(1, math.ceil(n / 1000))
groups = s["rbac_groups"]
least = pages(len(s["members"])) + pages(len(s["invites"])) + pages(len(groups)) + pages(len(s["roles"]))
least += sum(pages(len(g["members"])) for g in groups)
scim = sum(pages(len(g["members"])) for g in groups if g["source_type"] == "scim")
print(least, scim, len(s["members"]), len(groups), len(s["roles"]), len(s["invites"]))
PY
)
echo "== org: $n_members members, $n_groups groups, $n_roles roles, $n_invites invites; Admin API limit $rate/min;" \
  "latency ${latency} ms; $(nproc) cores; $(date -u +%Y-%m-%d) at $(git -C "$root" rev-parse --short HEAD)"

curl -s --fail -d "" "$admin/reset-stats" >/dev/null
ADMIN_API_KEY="$(cat "$work/key")" ADMIN_API_URL="$origin" /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
  "$build/bin/connector-host" --plugins-dir "$build/plugins" --log-level error sync claude-enterprise \
  --set admin-api-rate-limit="$rate" --out "$work/org.json" 2>"$work/sync.err" || { cat "$work/sync.err" >&2; exit 1; }
read -r wall user sys rss <"$work/time"
curl -s "$admin/stats" >"$work/stats.json"
read -r reqs limited < <(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["admin"]; print(a["total_requests"], a["rate_limited"])' "$work/stats.json")
floor=$(echo "$least * 60 / $rate" | bc -l)
tail -n 1 "$work/sync.err"
printf 'requests   %d made, least %d -> %.3fx (target <= 1.05)\n' "$reqs" "$least" "$(echo "$reqs / $least" | bc -l)"
printf 'wall       %.2f s, floor %.2f s (least / rate) -> %.3fx (target <= 1.1)\n' "$wall" "$floor" "$(echo "$wall / $floor" | bc -l)"
printf '429s       %d (target 0)\n' "$limited"
printf 'cpu        %.2f s, peak RSS %.1f MB\n' "$(echo "$user + $sys" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
printf 'scim groups: %d of the %d requests read the members of SCIM groups\n' "$scim_group_reqs" "$reqs"

# The same org with SCIM also configured: the members of scim groups come through SCIM (plugin/README.md).
echo "== with SCIM also configured (after 61 s, so that the first run's minute of budget has passed)"
sleep 61
curl -s --fail -d "" "$admin/reset-stats" >/dev/null
ADMIN_API_KEY="$(cat "$work/key")" ADMIN_API_URL="$origin" SCIM_URL="$url" SCIM_TOKEN="$(cat "$work/token")" \
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
  "$build/bin/connector-host" --plugins-dir "$build/plugins" --log-level error sync claude-enterprise \
  --set admin-api-rate-limit="$rate" --out "$work/org-both.json" 2>"$work/sync.err" || { cat "$work/sync.err" >&2; exit 1; }
read -r wall user sys rss <"$work/time"
curl -s "$admin/stats" >"$work/stats.json"
read -r areqs limited sreqs < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); a=s["admin"]; print(a["total_requests"], a["rate_limited"], s["total_requests"])' "$work/stats.json")
tail -n 1 "$work/sync.err"
printf 'Admin API  %d requests (Admin-only least %d -> %.3fx), %d 429s\n' "$areqs" "$least" "$(echo "$areqs / $least" | bc -l)" "$limited"
printf 'SCIM       %d requests\n' "$sreqs"
printf 'wall       %.2f s; Admin-only floor %.2f s; floor at these Admin API requests %.2f s\n' "$wall" "$floor" "$(echo "$areqs * 60 / $rate" | bc -l)"
printf 'cpu        %.2f s, peak RSS %.1f MB\n' "$(echo "$user + $sys" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
