# Shared by bench/sync.sh and bench/members.sh (sourced, not run): the org options, the Release build and the
# simulator on loopback with a throwaway token. A script sets its defaults (users groups members latency build),
# then lets bench_org_option take the options they share, then calls bench_prepare and start_sim.

# bench_org_option NAME VALUE: takes one shared option (the caller then shifts 2); fails for any other.
bench_org_option() {
  case "$1" in
    --users) users=$2 ;;
    --groups) groups=$2 ;;
    --members) members=$2 ;;
    --latency-ms) latency=$2 ;;
    --build) build=$2 ;;
    *) return 1 ;;
  esac
}

# bench_prepare TARGET...: packages, a Release build of the targets in $build, a work dir removed on exit
# (the simulator stopped), and the token file.
bench_prepare() {
  "$root/scripts/install-deps.sh"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONNECTOR_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target "$@" >/dev/null
  bench_workdir
}

# bench_workdir: a work dir removed on exit (the simulator stopped) and the token file, for binaries already
# built in $build.
bench_workdir() {
  work=$(mktemp -d)
  sim_pid=""
  trap 'stop_sim; rm -rf "$work"' EXIT
  token="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s' "$token" >"$work/token"
}

stop_sim() { if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; sim_pid=""; fi; }

# start_sim USERS GROUPS MEMBERS LATENCY_MS [SIM-OPTION...]: sets url, admin and seed_s (seconds until it listened).
start_sim() {
  stop_sim
  local extra=("${@:5}")
  rm -f "$work/sim.out"; mkfifo "$work/sim.out"
  local t0 word
  t0=$(date +%s.%N)
  "$build/bin/scim-sim" --port 0 --token-file "$work/token" --seed-users "$1" --seed-groups "$2" \
    --seed-members "$3" --seed 42 --latency-ms "$4" "${extra[@]}" >"$work/sim.out" 2>"$work/sim.err" &
  sim_pid=$!
  read -r word url <"$work/sim.out" || true
  [ "${word:-}" = "LISTENING" ] || { cat "$work/sim.err" >&2; exit 1; }
  seed_s=$(echo "$(date +%s.%N) - $t0" | bc -l)
  admin="${url%%/scim*}/_admin"
}

# The SCIM surface's count: the first "total_requests" (the Admin API's own count follows it, inside "admin").
stat_requests() { curl -s "$admin/stats" | grep -o '"total_requests":[0-9]*' | head -n 1 | cut -d: -f2; }
# stat_fault NAME: how many requests the simulator answered with that fault (rate_limit, fail, ...); 0 if none.
stat_fault() { curl -s "$admin/stats" | grep -o "\"$1\":[0-9]*" | head -n 1 | sed 's/.*://;s/^$/0/' | grep . || echo 0; }
reset_stats() { curl -s --fail -d "" "$admin/reset-stats" >/dev/null; }
