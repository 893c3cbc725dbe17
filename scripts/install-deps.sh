#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs, only those missing. Idempotent; silent when
# everything is already there. Uses sudo when not root.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git
  libcurl4-openssl-dev
  rapidjson-dev
  libboost-dev
  libcli11-dev
  libcpp-httplib-dev
  libssl-dev openssl
  zlib1g-dev
  libsqlite3-dev sqlite3
  doctest-dev
  g++-mingw-w64-x86-64
  curl bc time
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing missing packages: ${missing[*]}" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
