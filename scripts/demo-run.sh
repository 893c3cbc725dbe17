#!/usr/bin/env bash
# Runs the demo against an already-built tree: scripts/demo-run.sh [<build-dir>]
# Starts scim-sim with a sample organisation on a loopback port the OS picks, then walks connector-host
# through every command against it, and stops the simulator.
# Installed (`cmake --install`, the Debian package) as <prefix>/share/connector/demo.sh, it runs the programs of
# that prefix and lets connector-host find the plugin in its default directory, with no flag.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ge 1 ]; then
  tree=$1
elif [ "$(basename "$here")" = connector ] && [ -x "$here/../../bin/connector-host" ]; then
  tree=$(cd "$here/../.." && pwd)
else
  tree=build/default
fi
bin="$tree/bin"
plugins_dir=()
[ -d "$tree/plugins" ] && plugins_dir=(--plugins-dir "$tree/plugins")
work=$(mktemp -d)
sim_pid=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
# The plugin warns once per command that plain http to a loopback address is for tests only; the demo
# shows that warning on the first check and keeps the other steps quiet.
host() { "$bin/connector-host" "${plugins_dir[@]}" --log-level error "$@"; }
host_warn() { "$bin/connector-host" "${plugins_dir[@]}" "$@"; }

# A token made for this run only; it reaches the host through the environment, never the command line.
token="demo-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
# The same organisation also answers as Anthropic's Admin API, with a key of this run kept in a 0600 file.
(umask 077 && printf 'sk-ant-api01-demo-%s' "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" >"$work/admin-key")
mkfifo "$work/sim.out"
"$bin/scim-sim" --port 0 --token "$token" --seed-users 250 --seed-groups 12 --seed-members 700 --seed 7 \
  --soft-delete --admin-key-file "$work/admin-key" --seed-direct-users 40 --seed-direct-groups 4 --seed-roles 3 \
  --seed-invites 6 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
read -r listening url <"$work/sim.out" || true
[ "$listening" = "LISTENING" ] || { echo "scim-sim did not start:" >&2; cat "$work/sim.err" >&2; exit 1; }
export SCIM_URL="$url" SCIM_TOKEN="$token"
echo "scim-sim is serving a sample organisation (250 users, 12 groups, soft delete like WorkOS) at $url"

step "connector-host plugins"
host plugins
step "connector-host describe claude-enterprise"
host describe claude-enterprise
step "connector-host check claude-enterprise            # SCIM_URL and SCIM_TOKEN come from the environment"
host_warn check claude-enterprise
step "connector-host sync claude-enterprise --out org.json"
host sync claude-enterprise --out "$work/org.json"
echo "wrote org.json: $(wc -c <"$work/org.json") bytes"
step "connector-host sync claude-enterprise --out org.db     # an SQLite snapshot you can ask questions of"
host sync claude-enterprise --out "$work/org.db"
step "connector-host stats org.db"
host stats "$work/org.db" --format table
step "connector-host sync claude-enterprise --format table | head -n 40"
host sync claude-enterprise --format table 2>/dev/null | head -n 40 || true

step "connector-host create-account claude-enterprise --email jane.smith@example.com --profile display_name=\"Jane Smith\""
created=$(host create-account claude-enterprise --email jane.smith@example.com --profile display_name="Jane Smith")
echo "$created"
uid=$(printf '%s' "$created" | sed -n 's/.*"resource":{"type":"user","id":"\([^"]*\)".*/\1/p')
[ -n "$uid" ] || { echo "could not read the new user's id" >&2; exit 1; }
step "connector-host create-account ... (again: the account exists)"
host create-account claude-enterprise --email jane.smith@example.com --profile display_name="Jane Smith"

gid=$(host sync claude-enterprise --format ndjson 2>/dev/null | grep '"kind":"resource"' | grep '"type":"group"' |
  head -n 1 | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$gid" ] || { echo "could not read a group id" >&2; exit 1; }
step "connector-host grant claude-enterprise --entitlement group:$gid:member --principal user:$uid"
host grant claude-enterprise --entitlement "group:$gid:member" --principal "user:$uid"
step "connector-host sync claude-enterprise --out org.db     # a second run into the same snapshot"
host sync claude-enterprise --out "$work/org.db"
step "connector-host diff org.db                            # the last two runs: Jane joined, with her grant"
host diff "$work/org.db" --format table && true
echo "exit code: $? (1 = there are changes)"
step "connector-host access org.db user:email=jane.smith@example.com"
host access "$work/org.db" user:email=jane.smith@example.com --format table
step "connector-host grant ... (again)"
host grant claude-enterprise --entitlement "group:$gid:member" --principal "user:$uid"
step "connector-host revoke claude-enterprise --entitlement group:$gid:member --principal user:$uid"
host revoke claude-enterprise --entitlement "group:$gid:member" --principal "user:$uid"
step "connector-host revoke ... (again)"
host revoke claude-enterprise --entitlement "group:$gid:member" --principal "user:$uid"
step "connector-host delete claude-enterprise --resource user:$uid"
host delete claude-enterprise --resource "user:$uid"
step "connector-host delete ... (again)"
host delete claude-enterprise --resource "user:$uid"

step "connector-host check claude-enterprise  (with a wrong token)"
SCIM_TOKEN=wrong-token host check claude-enterprise && true
echo "exit code: $? (4 = authentication failure)"
echo
echo "The same organisation through Anthropic's Admin API: every member with their organisation role, invites,"
echo "direct groups and custom roles (SCIM sees only what the identity provider pushed)."
origin="${url%%/scim*}"
admin_host() { ADMIN_API_KEY="$(cat "$work/admin-key")" SCIM_URL= SCIM_TOKEN= host "$@" --set admin-api-url="$origin"; }
step "ADMIN_API_KEY=... connector-host check claude-enterprise"
admin_host check claude-enterprise
step "ADMIN_API_KEY=... connector-host sync claude-enterprise --out admin.json"
admin_host sync claude-enterprise --out "$work/admin.json"
step "ADMIN_API_KEY=... connector-host sync claude-enterprise --out admin.db"
admin_host sync claude-enterprise --out "$work/admin.db"
# A member of a group that holds a custom role: access shows the role and the group it comes through.
role_group=$(host grants "$work/admin.db" --format ndjson | grep '"entitlement":"role:' |
  sed -n '1s/.*"principal":"group:\([^"]*\)".*/\1/p' || true)
[ -n "$role_group" ] || { echo "could not find a group that holds a role" >&2; exit 1; }
role_member=$(host grants "$work/admin.db" --entitlement "group:$role_group:member" --format ndjson |
  sed -n '1s/.*"principal":"user:\([^"]*\)".*/\1/p' || true)
[ -n "$role_member" ] || { echo "could not find a member of $role_group" >&2; exit 1; }
step "connector-host access admin.db user:$role_member      # a role held through a group shows its path"
host access "$work/admin.db" "user:$role_member" --format table
step "ADMIN_API_KEY=... connector-host sync claude-enterprise --format ndjson | grep org_role (a few lines)"
admin_host sync claude-enterprise --format ndjson 2>/dev/null | grep '"kind":"grant"' | grep 'org_role:' | head -n 3 || true
member=$(admin_host sync claude-enterprise --format ndjson 2>/dev/null | grep '"kind":"grant"' |
  grep -o 'org_role:user:assigned:user:user_[A-Za-z0-9]*' | sed -n '1s/.*:user://p' || true)
[ -n "$member" ] || { echo "could not read a member id" >&2; exit 1; }
step "ADMIN_API_KEY=... connector-host grant claude-enterprise --entitlement org_role:managed:assigned --principal user:$member"
admin_host grant claude-enterprise --entitlement org_role:managed:assigned --principal "user:$member"
step "ADMIN_API_KEY=... connector-host revoke claude-enterprise --entitlement org_role:managed:assigned --principal user:$member"
admin_host revoke claude-enterprise --entitlement org_role:managed:assigned --principal "user:$member"
echo
echo "Demo complete. The simulator has stopped; try the commands yourself (README, host/CLI.md)."
