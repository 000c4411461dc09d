"""The two host processes podlab supervises (containerd and the kubelet) and the pod network.

Everything else (etcd, the API server, controller-manager, scheduler, kube-proxy, CoreDNS)
runs in pods that kubeadm sets up, as on a kind node. kind's node runs containerd and the
kubelet under systemd; our hosts have no systemd, so podlab's keeper stands in for it.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from . import layout as L
from .layout import Layout


@dataclass(frozen=True)
class Component:
    """A long-running host process of the cluster and how to tell it is healthy."""

    name: str
    argv: tuple[str, ...]
    health_url: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    # A file the process needs before it can start (the keeper waits for it).
    wait_for: str | None = None
    # A systemd-style EnvironmentFile whose variables' words are appended to argv.
    env_file: str | None = None
    env_file_vars: tuple[str, ...] = ()

    def log(self, layout: Layout) -> Path:
        """This component's log file."""
        return layout.logs / f"{self.name}.log"


def containerd_config(layout: Layout, *, runc: Path, pause_image: str, restrict_oom_score_adj: bool = False) -> str:
    """containerd 2.x configuration (version 3): its own root, state and socket; CRI with our CNI.

    restrict_oom_score_adj: on hosts where even root lacks CAP_SYS_RESOURCE (some VMs and
    sandboxes), runc cannot give containers the negative OOM scores the kubelet asks for;
    containerd then clamps them to its own score instead of failing every pod.
    """
    runtime, images = "plugins.'io.containerd.cri.v1.runtime'", "plugins.'io.containerd.cri.v1.images'"
    return "\n".join([
        "version = 3",
        f'root = "{layout.containerd_root}"',
        f'state = "{layout.containerd_state}"',
        "[grpc]",
        f'  address = "{layout.containerd_socket}"',
        "[ttrpc]",
        f'  address = "{layout.containerd_socket}.ttrpc"',
        "[debug]",
        f'  address = "{layout.run / "containerd-debug.sock"}"',
        f"[{images}]",
        '  snapshotter = "overlayfs"',
        f"[{images}.pinned_images]",
        f'  sandbox = "{pause_image}"',
        f"[{runtime}]",
        "  enable_selinux = false",
        "  # Pod network namespaces under our state directory, so `down` finds and removes them all.",
        "  netns_mounts_under_state_dir = true",
        f"  restrict_oom_score_adj = {'true' if restrict_oom_score_adj else 'false'}",
        f"[{runtime}.containerd]",
        '  default_runtime_name = "runc"',
        f"[{runtime}.containerd.runtimes.runc]",
        '  runtime_type = "io.containerd.runc.v2"',
        f"[{runtime}.containerd.runtimes.runc.options]",
        f'  BinaryName = "{runc}"',
        "  SystemdCgroup = false",
        f"[{runtime}.cni]",
        '  bin_dirs = ["/usr/lib/cni"]',
        f'  conf_dir = "{layout.cni_conf_dir}"',
        "",
    ])


def containerd(layout: Layout, bin_dir: Path, runc: Path, *, pause_image: str,
               restrict_oom_score_adj: bool = False) -> Component:
    """containerd built from Go modules, on a socket of its own so a system containerd is left alone."""
    path = layout.config / "containerd.toml"
    config = containerd_config(layout, runc=runc, pause_image=pause_image,
                               restrict_oom_score_adj=restrict_oom_score_adj)
    # The shim is found on PATH: ours first.
    return Component("containerd", (str(bin_dir / "containerd"), f"--config={path}"),
                     files={str(path): config},
                     env={"PATH": f"{bin_dir}:{runc.parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"})


def kubelet(bin_dir: Path) -> Component:
    """The kubelet as kubeadm's systemd drop-in (10-kubeadm.conf) starts it.

    It waits for the config `kubeadm init` writes (its kubelet-start phase), then runs with
    kubeadm's bootstrap and final kubeconfigs and the flags kubeadm put in kubeadm-flags.env.
    """
    return Component("kubelet", (
        str(bin_dir / "kubelet"),
        f"--bootstrap-kubeconfig={L.KUBERNETES_DIR / 'bootstrap-kubelet.conf'}",
        f"--kubeconfig={L.KUBERNETES_DIR / 'kubelet.conf'}",
        f"--config={L.KUBELET_DIR / 'config.yaml'}",
    ), health_url="http://127.0.0.1:10248/healthz",
        wait_for=str(L.KUBELET_DIR / "config.yaml"),
        env_file=str(L.KUBELET_DIR / "kubeadm-flags.env"), env_file_vars=("KUBELET_KUBEADM_ARGS",))


def env_file_words(text: str, names: tuple[str, ...]) -> list[str]:
    """The words of the named variables in a systemd EnvironmentFile (NAME="a b" lines)."""
    words: list[str] = []
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = " ".join(shlex.split(value))
    for name in names:
        words += values.get(name, "").split()
    return words


def cni_conflist(layout: Layout) -> str:
    """kind's pod network (ptp + host-local + portmap, no masquerade): pod traffic stays on this machine.

    ptp, as kindnet configures it on a kind node, gives each pod a veth pair and a /32 route of
    its own. A bridge keeps the node's neighbour entry for a pod IP on the bridge after the pod
    is gone; when host-local hands the address out again, the node sends to the old MAC address
    until that entry expires (reproduced: probes saw "i/o timeout" for more than 30 s). A ptp pair, and its
    neighbour entries, go with the pod.
    """
    return json.dumps({
        "cniVersion": "1.0.0",
        "name": L.CNI_NETWORK,
        "plugins": [
            {"type": "ptp", "ipMasq": False, "mtu": 1500,
             "ipam": {"type": "host-local", "dataDir": str(layout.cni_ipam),
                      "ranges": [[{"subnet": L.NODE_POD_CIDR}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }, indent=2)
