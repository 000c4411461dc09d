"""`podlab down` and crash recovery leave nothing behind on the host (local provider only).

Runs last among the live tests (it recreates the cluster): a crash (every process of the
cluster killed at once, as when a session ends), `podlab up` recovering from it, `podlab
down`, then a check of everything a cluster puts on the host, then `podlab up` again.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from podlab.cluster import active_provider_name
from podlab.cluster.local import host
from podlab.cluster.local import layout as L
from podlab.connect import forget_clients

pytestmark = [pytest.mark.live, pytest.mark.alone,  # it takes the cluster down and up again
              pytest.mark.skipif(active_provider_name() != "local", reason="the local provider's host clean-up")]

PODLAB = str(Path(sys.executable).with_name("podlab"))


def podlab(*args: str) -> float:
    started = time.monotonic()
    result = subprocess.run([PODLAB, *args], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return time.monotonic() - started


def residue(layout: L.Layout) -> dict[str, list[str]]:
    """Everything of a cluster that could be left on the host, by kind."""
    # the local cluster's own processes: a kind node's shim and the kind binary (also run from
    # podlab's build cache) are another provider's, and may run beside it
    procs = host._our_processes(layout, ("podlab.cluster.local.keeper", *host._runtime_markers(layout)))
    mounts = host._mounts_under((layout.state, layout.run, L.KUBELET_DIR, Path("/run/netns")))
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    links = [line for line in subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout.splitlines()
             if L.BRIDGE in line] + host.pod_links()
    address = [L.NODE_IP] if L.NODE_IP in subprocess.run(["ip", "-o", "addr", "show", "dev", "lo"],
                                                           capture_output=True, text=True).stdout else []
    cgroups = [str(t) for t in host._pod_cgroup_tops()]
    files = [str(p) for p in (L.KUBERNETES_DIR, L.KUBELET_DIR, L.ETCD_DIR, layout.run, layout.containerd_root,
                              layout.cni_ipam, layout.config, layout.cni_conf_dir, layout.cluster_record)
             if p.exists()]
    return {"processes": [str(p) for p in procs], "mounts": mounts, "network namespaces": netns,
            "links": links, "node address": address, "firewall": host.kube_rules(), "cgroups": cgroups,
            "files": files}


def test_crash_recovery_then_down_leaves_nothing_then_up_again():
    layout = L.default_layout()
    killed = host.kill_cluster_processes(layout)
    assert killed >= 10          # keepers, containerd, kubelet, shims and the pods' processes
    assert host.leftovers(layout)
    recovered = podlab("up", "--provider", "local")
    down = podlab("down")
    assert residue(layout) == {k: [] for k in residue(layout)}
    up = podlab("up", "--provider", "local")
    forget_clients()             # the new cluster has new certificates
    print(f"up after a crash {recovered:.1f} s, down {down:.1f} s, up {up:.1f} s")
