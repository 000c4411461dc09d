"""The images labs use, under the same names on every provider."""

from __future__ import annotations

# The lab image: a busybox. On kind it is pulled from Docker Hub; the local provider
# builds it from Debian's busybox-static (same upstream version) and imports it under
# this name, so manifests are identical across providers.
LAB_IMAGE = "docker.io/library/busybox:1.35.0"


# Node directory that lab pods may mount as hostPath, and that podlab can read back.
NODE_SHARE_DIR = "/var/lib/podlab-share"
