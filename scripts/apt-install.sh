#!/usr/bin/env bash
# apt-install.sh WHO PKG...: installs the Debian packages among PKG that are
# missing. Run as root; does nothing for packages already present; as
# another user it names what is missing and leaves it to them.
set -eu
who=$1
shift
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "$who: missing ${missing[*]} and not root; install them with apt-get" >&2
  exit 0
fi
echo "$who: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
