#!/usr/bin/env bash
# Membership benchmark (issue 7, item 2): the ways a client can learn every (group, user) membership of an org,
# measured with curl only against scim-sim.
#
#   bench/members.sh [--users N] [--groups G] [--members M] [--latency-ms L] [--parallel P] [--build DIR]
#                    [--no-jq]
#
# Strategies (users are always listed too: a sync needs them):
#   A    users ?excludedAttributes=groups (100/page), groups ?excludedAttributes=members (100/page),
#        then GET /Groups/{id}?attributes=members for every group;
#   A0   as A, but users listed without excludedAttributes (each user carries its `groups` array);
#        what the connector did before commit 1db2cd8 (it now does A);
#   B    users listed with their `groups` attribute (memberships from the users' side), groups listed with
#        ?excludedAttributes=members, no per-group request;
#   C/n  users ?excludedAttributes=groups, groups listed WITH members at page size n (100, 20, 5).
#
# Every strategy is run twice:
#   1. a check pass: every body is written to a temp dir, the (group id, user id) pairs are extracted (jq, or a
#      python3 fallback) and compared with strategy A's set (and A's set with the simulator's /_admin/state);
#      requests, bytes (sum of curl's %{size_download}) and the largest response come from this pass;
#   2. a timing pass: the same requests with bodies to /dev/null (except the group list pages whose ids the next
#      phase needs), `curl --parallel --parallel-max P` with keep-alive; wall time is the sum of the curl phases.
# Phases, as a client must do them: (1) the first page of users and of groups, which tell the totals;
# for A/A0 (2) the remaining group list pages, whose ids the per-group GETs need, then (3) the remaining user pages
# and the per-group GETs together; for B/C (2) every remaining page at once.
# The floor is requests x latency / P. The temp dir is removed and the simulator stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
users=100000 groups=2000 members=300000 latency=20 parallel=8 build="$root/build/bench-members" use_jq=1
. "$root/bench/lib.sh"
while [ $# -gt 0 ]; do
  if bench_org_option "$1" "${2:-}"; then shift 2; continue; fi
  case "$1" in
    --parallel) parallel=$2; shift 2 ;;
    --no-jq) use_jq=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$parallel" -ge 1 ] 2>/dev/null || { echo "--parallel must be a positive integer" >&2; exit 2; }

if [ "$use_jq" = 1 ] && ! command -v jq >/dev/null; then
  echo "note: jq not found (Debian package 'jq'); extracting memberships with python3" >&2
  use_jq=0
fi
[ "$use_jq" = 1 ] || command -v python3 >/dev/null || { echo "need jq or python3 to check the sets" >&2; exit 1; }
bench_prepare scim-sim
start_sim "$users" "$groups" "$members" "$latency"

# ---- extraction of ids and pairs from bodies (jq, or python3 when jq is missing) ---------------------------------
# extract <mode> <files...>; modes: ids (Resources[].id), user-list (group<TAB>user<TAB>type from users' groups),
# group-list (group<TAB>member<TAB>type from listed groups), group-get (from GET /Groups/{id}), truth (/_admin/state).
jq_prog() {
  case "$1" in
    ids) echo '(.Resources // [])[] | .id' ;;
    user-list) echo '(.Resources // [])[] | .id as $u | (.groups // [])[] | "\(.value)\t\($u)\t\(.type // "-")"' ;;
    group-list) echo '(.Resources // [])[] | .id as $g | (.members // [])[] | "\($g)\t\(.value)\t\(.type // "-")"' ;;
    group-get) echo '.id as $g | (.members // [])[] | "\($g)\t\(.value)\t\(.type // "-")"' ;;
    truth) echo '.groups[] | .id as $g | .members[] | "\($g)\t\(.)\t-"' ;;
  esac
}
py_prog='
import json, sys
mode = sys.argv[1]
out = sys.stdout
for path in sys.argv[2:]:
    with open(path, "rb") as fh:
        d = json.load(fh)
    if mode == "ids":
        for r in d.get("Resources", []): out.write(r["id"] + "\n")
    elif mode == "user-list":
        for r in d.get("Resources", []):
            for g in r.get("groups", []): out.write("%s\t%s\t%s\n" % (g["value"], r["id"], g.get("type", "-")))
    elif mode == "group-list":
        for r in d.get("Resources", []):
            for m in r.get("members", []): out.write("%s\t%s\t%s\n" % (r["id"], m["value"], m.get("type", "-")))
    elif mode == "group-get":
        for m in d.get("members", []): out.write("%s\t%s\t%s\n" % (d["id"], m["value"], m.get("type", "-")))
    elif mode == "truth":
        for g in d["groups"]:
            for m in g["members"]: out.write("%s\t%s\t-\n" % (g["id"], m))
'
extract() { # extract <mode> <dir> <glob>: reads every matching file of dir
  local mode=$1 dir=$2 glob=$3
  if [ "$use_jq" = 1 ]; then
    find "$dir" -maxdepth 1 -name "$glob" -print0 | xargs -0 -r jq -r "$(jq_prog "$mode")"
  else
    find "$dir" -maxdepth 1 -name "$glob" -print0 | xargs -0 -r python3 -c "$py_prog" "$mode"
  fi
}
total_of() { grep -o '"totalResults":[0-9]*' "$1" | head -n 1 | cut -d: -f2; }

# ---- curl phases --------------------------------------------------------------------------------------------------
# A phase is a curl config file (url/output pairs) run with --parallel; every transfer writes
# "<http code> <size_download>" to $dir/w. The wall time of the phase is added to $phase_wall.
cfg_head() { printf 'header = "Authorization: Bearer %s"\nheader = "Accept: application/scim+json"\n' "$token"; }
run_phase() { # run_phase <cfg> <dir>; a config with no url is skipped
  local t0 t1
  grep -q '^url' "$1" || return 0
  t0=$(date +%s.%N)
  curl -s --no-progress-meter --parallel --parallel-max "$parallel" -K "$1" -w '%{http_code} %{size_download}\n' >>"$2/w" || true
  t1=$(date +%s.%N)
  phase_wall=$(echo "$phase_wall + $t1 - $t0" | bc -l)
}

# run_strategy <name> <pass: check|time>: uses uq (users' extra query), gq (groups' extra query), gps (group page
# size) and per_group (1: GET /Groups/{id}?attributes=members for every group). Bodies land in $work/<name>-<pass>.
run_strategy() {
  local name=$1 pass=$2 dir="$work/$1-$2" s nu ng
  rm -rf "$dir"; mkdir -p "$dir"; : >"$dir/w"
  phase_wall=0
  keep() { if [ "$pass" = check ] || [ "$2" = 1 ]; then echo "$dir/$1"; else echo /dev/null; fi; }
  # Phase 1: the first page of each, for the totals.
  { cfg_head
    echo "url = \"$url/Users?startIndex=1&count=100$uq\""; echo "output = \"$dir/u-1.json\""
    echo "url = \"$url/Groups?startIndex=1&count=$gps$gq\""; echo "output = \"$dir/g-1.json\""
  } >"$dir/p1.cfg"
  run_phase "$dir/p1.cfg" "$dir"
  nu=$(total_of "$dir/u-1.json"); ng=$(total_of "$dir/g-1.json")
  [ -n "$nu" ] && [ -n "$ng" ] || { echo "no totalResults in the first pages of $name" >&2; exit 1; }
  { cfg_head
    for ((s = 1 + gps; s <= ng; s += gps)); do
      echo "url = \"$url/Groups?startIndex=$s&count=$gps$gq\""; echo "output = \"$(keep "g-$s.json" "$per_group")\""
    done
  } >"$dir/p2.cfg"
  { cfg_head
    for ((s = 101; s <= nu; s += 100)); do
      echo "url = \"$url/Users?startIndex=$s&count=100$uq\""; echo "output = \"$(keep "u-$s.json" 0)\""
    done
  } >"$dir/p3.cfg"
  if [ "$per_group" = 1 ]; then
    # Phase 2: the remaining group pages (their ids are needed); phase 3: remaining users + one GET per group.
    run_phase "$dir/p2.cfg" "$dir"
    extract ids "$dir" 'g-*.json' >"$dir/group-ids"
    local i=0 g
    while read -r g; do
      i=$((i + 1))
      echo "url = \"$url/Groups/$g?attributes=members\""; echo "output = \"$(keep "m-$i.json" 0)\""
    done <"$dir/group-ids" >>"$dir/p3.cfg"
    run_phase "$dir/p3.cfg" "$dir"
  else
    # Phase 2: everything else at once.
    tail -n +3 "$dir/p2.cfg" >>"$dir/p3.cfg"
    run_phase "$dir/p3.cfg" "$dir"
  fi
  local bad
  bad=$(awk '$1 != 200' "$dir/w" | wc -l)
  [ "$bad" = 0 ] || { echo "$name ($pass): $bad responses were not 200:" >&2; awk '$1 != 200' "$dir/w" | sort | uniq -c >&2; exit 1; }
  reqs=$(wc -l <"$dir/w")
  bytes=$(awk '{s += $2} END {printf "%d", s}' "$dir/w")
  maxb=$(awk '$2 > m {m = $2} END {printf "%d", m}' "$dir/w")
  wall=$phase_wall
}

# check_strategy <name> <pairs-mode> <pairs-glob>: after a check pass, the membership set and listed ids.
check_strategy() { # check_strategy <dir-key> <pairs-mode> <pairs-glob> <name>
  local dir="$work/$1-check" name=$4 nu ng lu lg
  extract "$2" "$dir" "$3" >"$dir/pairs.raw"
  # Users' groups[].type is direct/indirect; members[].type is User/Group. Group-in-group members are not user
  # memberships: count them apart.
  awk -F'\t' 'tolower($3) != "group" {print $1 "\t" $2}' "$dir/pairs.raw" | LC_ALL=C sort >"$dir/pairs.all"
  LC_ALL=C sort -u "$dir/pairs.all" >"$dir/pairs"
  local n_all n_uniq n_groupm n_indirect
  n_all=$(wc -l <"$dir/pairs.all"); n_uniq=$(wc -l <"$dir/pairs")
  n_groupm=$(awk -F'\t' 'tolower($3) == "group"' "$dir/pairs.raw" | wc -l)
  n_indirect=$(awk -F'\t' 'tolower($3) == "indirect"' "$dir/pairs.raw" | wc -l)
  nu=$(total_of "$dir/u-1.json"); ng=$(total_of "$dir/g-1.json")
  lu=$(extract ids "$dir" 'u-*.json' | LC_ALL=C sort -u | wc -l)
  lg=$(extract ids "$dir" 'g-*.json' | LC_ALL=C sort -u | wc -l)
  if [ "$name" = A ]; then
    cp "$dir/pairs" "$work/A.pairs"
    verdict="reference"
  elif cmp -s "$dir/pairs" "$work/A.pairs"; then
    verdict="OK"
  else
    verdict="DIFFERENT ($(LC_ALL=C comm -23 "$work/A.pairs" "$dir/pairs" | wc -l) only in A, $(LC_ALL=C comm -13 "$work/A.pairs" "$dir/pairs" | wc -l) only in $name)"
  fi
  V[$name]=$verdict
  printf '  %-6s pairs %d (distinct %d), group-typed members %d, indirect %d; users listed %d/%d, groups %d/%d; vs A: %s\n' \
    "$name" "$n_all" "$n_uniq" "$n_groupm" "$n_indirect" "$lu" "$nu" "$lg" "$ng" "$verdict"
  [ "$n_all" = "$n_uniq" ] || echo "  $name: duplicate pairs in the bodies" >&2
  [ "$lu" = "$nu" ] || echo "  $name: listed $lu distinct users, totalResults says $nu" >&2
  [ "$lg" = "$ng" ] || echo "  $name: listed $lg distinct groups, totalResults says $ng" >&2
}

xg="&excludedAttributes=groups" xm="&excludedAttributes=members"
names=(A A0 B C/100 C/20 C/5)
setup() { # strategy parameters
  case "$1" in
    A) uq=$xg gq=$xm gps=100 per_group=1 pmode=group-get pglob='m-*.json' ;;
    A0) uq="" gq=$xm gps=100 per_group=1 pmode=group-get pglob='m-*.json' ;;
    B) uq="" gq=$xm gps=100 per_group=0 pmode=user-list pglob='u-*.json' ;;
    C/*) uq=$xg gq="" gps=${1#C/} per_group=0 pmode=group-list pglob='g-*.json' ;;
  esac
}
key() { echo "${1//\//_}"; }

echo "== org: $users users, $groups groups, ~$members memberships (seed 42); latency ${latency} ms; curl --parallel-max $parallel; $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "== extraction with $([ "$use_jq" = 1 ] && echo "jq $(jq --version 2>/dev/null)" || echo python3); $(curl --version | head -n 1 | cut -d' ' -f1-2)"

declare -A V REQ BYTES MAXB WALL SREQ
echo "-- set checks (check pass, bodies on disk):"
for n in "${names[@]}"; do
  setup "$n"; k=$(key "$n")
  run_strategy "$k" check
  REQ[$n]=$reqs BYTES[$n]=$bytes MAXB[$n]=$maxb
  check_strategy "$k" "$pmode" "$pglob" "$n"
  if [ "$n" = A ]; then
    curl -s --fail "$admin/state" -o "$work/state.json"
    extract truth "$work" state.json | awk -F'\t' '{print $1 "\t" $2}' | LC_ALL=C sort -u >"$work/truth.pairs"
    if cmp -s "$work/truth.pairs" "$work/A.pairs"; then t=OK; else t=DIFFERENT; fi
    echo "  A vs /_admin/state (the simulator's truth, $(wc -l <"$work/truth.pairs") pairs): $t"
  fi
  rm -rf "$work/$k-check"
done

echo "-- timing pass (bodies to /dev/null):"
for n in "${names[@]}"; do
  setup "$n"; k=$(key "$n")
  reset_stats
  run_strategy "$k" time
  SREQ[$n]=$(stat_requests)
  WALL[$n]=$wall
  note=""
  [ "$reqs" = "${REQ[$n]}" ] || note="$note requests differ from the check pass (${REQ[$n]});"
  [ "$bytes" = "${BYTES[$n]}" ] || note="$note bytes differ from the check pass (${BYTES[$n]});"
  [ "${SREQ[$n]}" = "$reqs" ] || note="$note the simulator counted ${SREQ[$n]} requests;"
  printf '  %-6s %d requests in %.2f s%s\n' "$n" "$reqs" "$wall" "${note:+ —$note}"
  rm -rf "$work/$k-time"
done

printf '\n%-8s %8s %14s %9s %12s %9s %9s %10s %11s  %s\n' strategy requests "bytes" "MB" "largest (B)" "wall (s)" \
  "floor (s)" wall/floor "6000/min(s)" "set vs A"
for n in "${names[@]}"; do
  floor=$(echo "${REQ[$n]} * $latency / 1000 / $parallel" | bc -l)
  ratio="-"
  [ "$latency" -gt 0 ] && ratio=$(printf %.2f "$(echo "${WALL[$n]} / $floor" | bc -l)")
  printf '%-8s %8d %14d %9.1f %12d %9.2f %9.2f %10s %11.1f  %s\n' "$n" "${REQ[$n]}" "${BYTES[$n]}" \
    "$(echo "${BYTES[$n]} / 1000000" | bc -l)" "${MAXB[$n]}" "${WALL[$n]}" "$floor" "$ratio" \
    "$(echo "${REQ[$n]} / 100" | bc -l)" "${V[$n]}"
done
cat <<EOF

bytes: sum of curl's %{size_download} (response bodies, uncompressed; headers not counted). MB = 10^6 bytes.
wall: sum of the curl phases of the timing pass (totals page, [group pages,] the rest), id extraction between
  phases not counted; keep-alive, curl --parallel --parallel-max $parallel.
floor: requests x ${latency} ms / $parallel. 6000/min: requests / 100 per second, the lower bound on wall time under
  WorkOS's general API rate limit of 6,000 requests a minute (the SCIM endpoint's own limit is unpublished).
A0: users listed without excludedAttributes, then one GET per group (the connector before 1db2cd8; it now does A).
B: RFC 7643 makes User.groups read-only and optional; it includes indirect memberships from nested groups, and it
  cannot show group-in-group members. Whether WorkOS returns User.groups is not verified.
C: whether WorkOS caps or truncates members in group lists is not verified; the largest response is the cost of
  the largest group in one page.
EOF
