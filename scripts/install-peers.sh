#!/usr/bin/env bash
# Installs the real peers the interop tests talk to (Debian packages).
# Run as root; does nothing for packages that are already present.
set -eu
pkgs=(libwebsockets-test-server python3-websockets node-ws nodejs chromium util-linux)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-peers: missing ${missing[*]} and not root; install them with apt-get" >&2
  exit 0
fi
echo "install-peers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
