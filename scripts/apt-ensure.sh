#!/usr/bin/env bash
# Install the named Debian packages when any is missing. Never upgrades what is installed:
# upgrading PostgreSQL under a running server breaks new connections until it restarts.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "apt: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-upgrade --no-install-recommends "${missing[@]}"
