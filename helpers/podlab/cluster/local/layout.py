"""Pinned versions, addresses and on-disk layout of the local cluster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ... import paths

KUBERNETES_VERSION = "v1.34.12"
KUBERNETES_COMMIT = "26c89157669bdc7e3657302bc1abde758507095b"
ETCD_VERSION = "v3.6.16"

NODE_NAME = "podlab-node"
CLUSTER_NAME = "podlab"
# The node's address is a /32 of its own on the loopback device (not a loopback address):
# the cluster does not depend on the host's network and every machine gets the same address.
# (A dummy interface would do too, but some kernels, like our VMs', lack the dummy driver.)
NODE_INTERFACE = "lo"
NODE_IP = "10.200.0.1"
POD_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
BRIDGE = "podlab-br0"
CNI_NETWORK = "podlab"

# Ports podlab's processes listen on; checked before start-up.
PORTS = {
    "etcd client": 2379,
    "etcd peer": 2380,
    "kube-apiserver": 6443,
    "kube-controller-manager": 10257,
    "kube-scheduler": 10259,
    "kubelet": 10250,
    "kubelet healthz": 10248,
    "kube-proxy metrics": 10249,
    "kube-proxy healthz": 10256,
}


@dataclass(frozen=True)
class Layout:
    """Directories and files of one local cluster."""

    state: Path

    @property
    def pki(self) -> Path:
        """Certificates, keys and kubeconfigs."""
        return self.state / "pki"

    @property
    def config(self) -> Path:
        """Rendered component configuration files."""
        return self.state / "config"

    @property
    def logs(self) -> Path:
        """One log file per component."""
        return self.state / "logs"

    @property
    def etcd_data(self) -> Path:
        """etcd's data directory (wiped on down)."""
        return self.state / "etcd"

    @property
    def kubelet_root(self) -> Path:
        """The kubelet's root directory (pod volumes live here)."""
        return self.state / "kubelet"

    @property
    def containerd_root(self) -> Path:
        """containerd's persistent root: imported images survive a down/up."""
        return self.state / "containerd"

    @property
    def run(self) -> Path:
        """Runtime state: sockets, pid files, containerd state."""
        return Path("/run/podlab")

    @property
    def containerd_state(self) -> Path:
        """containerd's runtime state directory."""
        return self.run / "containerd"

    @property
    def containerd_socket(self) -> Path:
        """containerd's gRPC socket (a socket of our own, not the system one)."""
        return self.run / "containerd.sock"

    @property
    def cni_conf_dir(self) -> Path:
        """Where the CNI network config for containerd lives."""
        return self.state / "cni"

    @property
    def supervisor_pid(self) -> Path:
        """The pid file of the supervisor that keeps the components running."""
        return self.run / "supervisor.pid"

    @property
    def admin_kubeconfig(self) -> Path:
        """The cluster-admin kubeconfig inside the state directory."""
        return self.pki / "admin.kubeconfig"


def default_layout() -> Layout:
    """The layout under podlab's state directory."""
    return Layout(paths.state_dir())


def binaries_dir(name: str, version: str) -> Path:
    """Cache directory for one build, keyed by component and version."""
    return paths.cache_dir() / "bin" / f"{name}-{version}"
