#!/usr/bin/env bash
# Installs the Debian packages zenroll's tests, demo and benchmarks use, when
# missing. As root it uses apt-get; otherwise it says what to install.
# slapd is preseeded not to create Debian's default instance: zenroll runs its
# own private slapd (scripts/slapd.mjs) and never touches a system one.
set -euo pipefail

want=(zip unzip openssl python3 slapd ldap-utils)
missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    # python3 may come from elsewhere (pyenv); a working command is enough.
    if [ "$pkg" = python3 ] && command -v python3 >/dev/null 2>&1; then continue; fi
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "zenroll needs these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
