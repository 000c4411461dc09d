"""The images labs use, under the same names on every provider."""

from __future__ import annotations

# The lab image: a busybox. On kind it is pulled from Docker Hub; the local provider
# builds it from Debian's busybox-static (same upstream version) and imports it under
# this name, so manifests are identical across providers.
LAB_IMAGE = "docker.io/library/busybox:1.35.0"

# The pod sandbox ("pause") image the local provider's containerd is configured with.
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"

# Cluster DNS, built by the local provider from the Go module proxy (kubeadm v1.34 uses v1.12.1).
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.12.1"

# Node directory that lab pods may mount as hostPath, and that podlab can read back.
NODE_SHARE_DIR = "/var/lib/podlab-share"
