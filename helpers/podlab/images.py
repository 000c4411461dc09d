"""The images labs use, under the same names on every provider."""

from __future__ import annotations

# The lab image: a busybox. On kind it is pulled from Docker Hub; the local provider
# builds it from Debian's busybox-static (same upstream version) and imports it under
# this name, so manifests are identical across providers.
LAB_IMAGE = "docker.io/library/busybox:1.35.0"

# Upstream's e2e test image, for what busybox cannot do (a gRPC health server for gRPC
# probes). The tag is the one the e2e tests of Kubernetes 1.37 use
# (test/utils/image/manifest.go); kind pulls it from registry.k8s.io, and the local provider
# builds the same program from the release's source (test/images/agnhost) under this name.
AGNHOST_IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.66.1"


# Node directory that lab pods may mount as hostPath, and that podlab can read back.
NODE_SHARE_DIR = "/var/lib/podlab-share"
