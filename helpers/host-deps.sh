#!/usr/bin/env bash
# Install the Debian packages podlab's local provider uses, when they are missing.
# Does nothing off Debian/Ubuntu, when not root, or when everything is present.
set -euo pipefail
packages=(containerd runc containernetworking-plugins iptables conntrack openssl busybox-static iproute2)
command -v apt-get >/dev/null || exit 0
[ "$(id -u)" = 0 ] || { echo "host-deps: not root; skipping apt (podlab doctor says what is missing)"; exit 0; }
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "host-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
