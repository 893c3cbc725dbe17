#!/usr/bin/env bash
# "Any compiler's plugin loads in any compiler's host", proven: builds the example plugin (C99), the well-behaved
# fixture plugin (C++) and the claude-enterprise plugin with the other compiler (clang when this tree is gcc's,
# gcc when it is clang's), then
#   1. this tree's connector-host loads the other compiler's plugins, and
#   2. the other compiler's connector-host loads this tree's plugins,
# running describe, check and sync (the claude-enterprise plugin against scim-sim on 127.0.0.1). Each cross pair
# must print exactly what the same-compiler pair prints (records sorted; timing and run metadata left out).
#
#   check_cross_compiler.sh <source dir> <this build dir> <work dir>
#
# Exit 0: every pair agreed. Exit 77 (CTest SKIP) only when the other compiler is not installed, saying so.
set -euo pipefail
src=$1
here_build=$2
work=$3
mkdir -p "$work"

# Which compiler built a file: its .comment section names every compiler whose objects went in (a clang-built
# library also carries GCC's crt objects), so clang's mark decides.
compiler_of() {
  local c
  c=$(readelf -p .comment "$1" 2>/dev/null) || true
  if grep -q 'clang version' <<<"$c"; then echo clang; elif grep -q 'GCC:' <<<"$c"; then echo gcc; fi
}
this_compiler=$(compiler_of "$here_build/bin/connector-host")
case "$this_compiler" in
  clang) other_cc=gcc other_cxx=g++ ;;
  *) other_cc=clang other_cxx=clang++ ;;
esac
if ! command -v "$other_cc" >/dev/null || ! command -v "$other_cxx" >/dev/null; then
  echo "SKIP: $other_cxx is not installed; the cross-compiler check needs both compilers"
  exit 77
fi

other=$work/other-build
echo "== building the plugins and connector-host with $other_cxx (this tree: ${this_compiler:-unknown})"
cmake -S "$src" -B "$other" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$other_cc" \
  -DCMAKE_CXX_COMPILER="$other_cxx" -DCONNECTOR_BUILD_TESTS=ON >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$other" -j "$(nproc 2>/dev/null || echo 2)" --target claude-enterprise example-minimal \
  conformance-fixture-good connector-host >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }

plugins_of() { # build dir -> the three plugin files
  echo "$1/plugins/claude-enterprise.so $1/example-plugins/example-minimal.so $1/fixture-plugins/conformance-fixture-good.so"
}
for f in $(plugins_of "$other") "$other/bin/connector-host"; do
  [ -f "$f" ] || { echo "FAIL: $f was not built"; exit 1; }
  c=$(compiler_of "$f")
  [ "$c" = "$other_cc" ] || { echo "FAIL: $f was not built by $other_cc (its .comment says: ${c:-nothing})"; exit 1; }
done

# The simulator (this tree's) with a small organisation, on a port the OS picks; stopped on exit.
token="xcc-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
rm -f "$work/sim.out"
mkfifo "$work/sim.out"
"$here_build/bin/scim-sim" --port 0 --token "$token" --seed-users 40 --seed-groups 4 --seed-members 90 --seed 3 \
  >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
read -r listening url <"$work/sim.out" || true
[ "${listening:-}" = "LISTENING" ] || { echo "FAIL: scim-sim did not start"; cat "$work/sim.err"; exit 1; }
printf '%s' "$token" >"$work/token"
chmod 600 "$work/token"

config_for() { # plugin file -> --set arguments
  case "$1" in
    *claude-enterprise*) echo "--set scim-url=$url --set scim-token=@$work/token" ;;
    *example-minimal*) echo "--set users=alice,bob" ;;
    *fixture*) echo "--set service-url=http://127.0.0.1:1 --set api-token=@$work/token" ;;
  esac
}

# What a host prints for a plugin: describe (JSON), check (JSON), and the sync's records, sorted.
transcript() { # host plugin out-file
  local host=$1 plugin=$2 out=$3
  # shellcheck disable=SC2046
  {
    echo "## describe"
    "$host" describe "$plugin" --json
    echo "## check"
    "$host" check "$plugin" $(config_for "$plugin") --json | grep -v '"elapsed' || true
    echo "## sync"
    "$host" sync "$plugin" $(config_for "$plugin") --format ndjson | grep -Ev '"kind":"(summary|meta|run|checkpoint)"' | sort
  } >"$out" 2>"$out.err" || { echo "FAIL: $host with $plugin:"; cat "$out.err"; return 1; }
}

status=0
for plugin_name in claude-enterprise example-minimal conformance-fixture-good; do
  here_plugin=$(plugins_of "$here_build" | tr ' ' '\n' | grep "/$plugin_name.so")
  other_plugin=$(plugins_of "$other" | tr ' ' '\n' | grep "/$plugin_name.so")
  transcript "$here_build/bin/connector-host" "$here_plugin" "$work/$plugin_name.same.txt"
  for pair in "this-host:$here_build/bin/connector-host:$other_plugin" "other-host:$other/bin/connector-host:$here_plugin"; do
    IFS=: read -r label host plugin <<<"$pair"
    transcript "$host" "$plugin" "$work/$plugin_name.$label.txt" || { status=1; continue; }
    # The describe output names the plugin's path; compare everything else.
    if diff <(sed "s|$plugin|PLUGIN|g; s|$here_plugin|PLUGIN|g" "$work/$plugin_name.$label.txt") \
            <(sed "s|$here_plugin|PLUGIN|g" "$work/$plugin_name.same.txt") >"$work/$plugin_name.$label.diff"; then
      records=$(grep -c '"kind"' "$work/$plugin_name.$label.txt" || true)
      echo "ok: $plugin_name built by $( [ "$label" = this-host ] && echo "$other_cc" || echo "$this_compiler") in" \
           "the $( [ "$label" = this-host ] && echo "$this_compiler" || echo "$other_cc")-built host: describe, check, sync ($records records) as the same-compiler pair"
    else
      echo "FAIL: $plugin_name, $label pair differs from the same-compiler pair:"
      head -20 "$work/$plugin_name.$label.diff"
      status=1
    fi
  done
done
exit $status
