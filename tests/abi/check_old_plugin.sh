#!/usr/bin/env bash
# A plugin built against the frozen ABI 1.0 header, in today's connector-host: described as ABI 1.0, negotiated
# at 1.0, and every command it declares works (sync of its two users, check, grant).
#   check_old_plugin.sh <connector-host> <plugin.so>
set -euo pipefail
host=$1 plugin=$2
fail() { echo "FAILED: $*" >&2; exit 1; }
out=$("$host" describe "$plugin" --json)
grep -q '"abi":"1.0"' <<<"$out" || fail "describe does not say ABI 1.0: $out"
grep -q '"abi_negotiated":"1.0"' <<<"$out" || fail "describe does not say negotiated 1.0: $out"
"$host" check "$plugin" --set users=alice,bob >/dev/null || fail "check"
out=$("$host" sync "$plugin" --set users=alice,bob --format json)
grep -q 'alice' <<<"$out" && grep -q 'bob' <<<"$out" || fail "sync did not list alice and bob: $out"
echo "a plugin built against ABI 1.0 in today's host: OK"
