#!/usr/bin/env bash
# Install the Debian packages podlab's local provider uses, when they are missing:
# the host's network tools and CNI plugins, the userland that goes into the kube-proxy
# image (iptables, nftables, conntrack), busybox for the lab image, and what building
# runc needs (gcc, libseccomp). containerd, runc and Kubernetes come from Go modules.
# Does nothing off Debian/Ubuntu, when not root, or when everything is present.
set -euo pipefail
packages=(containernetworking-plugins iptables nftables conntrack iproute2 busybox-static
          gcc libc6-dev libseccomp-dev pkg-config)
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
