#!/usr/bin/env bash
# Installs what `make bench` needs beyond `make test`: the C toolchain and
# libwebsockets-dev for the libwebsockets (C) echo server of the benchmarks.
# Run as root; does nothing for packages that are already present.
set -eu
pkgs=(gcc pkg-config libwebsockets-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-bench: missing ${missing[*]} and not root; install them with apt-get (the C server is left out without them)" >&2
  exit 0
fi
echo "install-bench: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
