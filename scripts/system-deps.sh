#!/usr/bin/env bash
# Installs the Debian packages zenroll's tests, demo, benchmarks and browser
# test use, when missing. As root it uses apt-get; otherwise it says what to
# install. Quiet unless it installs something or fails.
# slapd is preseeded not to create Debian's default instance: zenroll runs its
# own private slapd (scripts/slapd.mjs) and never touches a system one.
# The browser test (scripts/test-browser.mjs) needs Debian's phpLDAPadmin,
# Apache with mod_php and Chromium; it serves phpLDAPadmin from a private
# Apache on a loopback port, so a system apache2 instance that this script
# installed is stopped and disabled (it would listen on every address).
# faketime gives the lock test nodes whose clocks are hours apart;
# resource-agents gives ocf-tester, which checks the OCF agent (ocf/zenroll),
# and libxml2-utils the xmllint it checks the agent's meta-data with.
set -euo pipefail

want=(zip unzip openssl python3 slapd ldap-utils phpldapadmin apache2 libapache2-mod-php chromium faketime resource-agents libxml2-utils)
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
  echo "install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# apt's output only when it fails.
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
if [[ " ${missing[*]} " == *" apache2 "* ]]; then
  if [ -d /run/systemd/system ]; then
    systemctl disable --now apache2 >/dev/null 2>&1 || true
  else
    service apache2 stop >/dev/null 2>&1 || true
    update-rc.d apache2 disable >/dev/null 2>&1 || true
  fi
fi
