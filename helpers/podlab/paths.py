"""Where podlab keeps caches and cluster state, outside the repository."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Root of podlab's build cache (binaries, images), keyed by version below it."""
    root = os.environ.get("PODLAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "podlab"
    )
    return Path(root)


def state_dir() -> Path:
    """Where a running local cluster keeps its state (certs, etcd data, logs, pids)."""
    return Path(os.environ.get("PODLAB_STATE") or "/var/lib/podlab")


def kubeconfig_path() -> Path:
    """The kubeconfig podlab writes for the clusters it starts."""
    return Path(os.environ.get("PODLAB_KUBECONFIG") or os.path.expanduser("~/.kube/podlab.config"))
