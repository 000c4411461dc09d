"""Pinned versions, addresses and on-disk layout of the local cluster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ... import paths

# The release the book is written against; `podlab up --kubernetes-version` picks another.
DEFAULT_KUBERNETES_VERSION = "v1.37.2"
# The oldest minor release podlab's kubeadm configuration (v1beta4, failCgroupV1) supports.
OLDEST_MINOR = 35

# The container runtime, as on kind's node image (containerd 2.3, runc 1.4), built from Go modules.
CONTAINERD_VERSION = "v2.3.7"
RUNC_VERSION = "v1.4.3"

# Named like a kind cluster called "podlab", whose only node is podlab-control-plane.
CLUSTER_NAME = "podlab"
NODE_NAME = "podlab-control-plane"
# The node's address is a /32 of its own on the loopback device (not a loopback address):
# the cluster does not depend on the host's network and every machine gets the same address.
# (A dummy interface would do too, but some kernels, like our VMs', lack the dummy driver.)
NODE_INTERFACE = "lo"
NODE_IP = "10.200.0.1"
# kind's defaults: pods in 10.244.0.0/16 (this node's range is the first /24), Services in 10.96.0.0/16.
POD_CIDR = "10.244.0.0/16"
NODE_POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
BRIDGE = "podlab-br0"   # the bridge of podlab before it used ptp: removed if an older run left it
CNI_NETWORK = "podlab"

# kubeadm's fixed locations on the node (as inside a kind node container).
KUBERNETES_DIR = Path("/etc/kubernetes")
MANIFESTS_DIR = KUBERNETES_DIR / "manifests"
ADMIN_KUBECONFIG = KUBERNETES_DIR / "admin.conf"
KUBELET_DIR = Path("/var/lib/kubelet")
ETCD_DIR = Path("/var/lib/etcd")
# The kubelet's cgroup root, as on kind: every pod lives below /kubelet in each hierarchy.
CGROUP_ROOT = "kubelet"

# Ports the cluster's processes listen on; checked before start-up.
PORTS = {
    "etcd client": 2379,
    "etcd peer": 2380,
    "etcd metrics": 2381,
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
    """podlab's own directories for one local cluster (kubeadm's are fixed, above)."""

    state: Path

    @property
    def config(self) -> Path:
        """Rendered configuration: the kubeadm config, containerd's, resolv.conf for pods."""
        return self.state / "config"

    @property
    def logs(self) -> Path:
        """One log file per supervised process, plus kubeadm's output."""
        return self.state / "logs"

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
    def cni_ipam(self) -> Path:
        """host-local IPAM's allocations."""
        return self.state / "cni-ipam"

    @property
    def cluster_record(self) -> Path:
        """Which version this host's cluster runs; written once kubeadm init starts."""
        return self.state / "cluster.json"

    @property
    def resolv_conf(self) -> Path:
        """The resolv.conf the kubelet gives pods with dnsPolicy Default (CoreDNS among them)."""
        return self.config / "resolv.conf"


def default_layout() -> Layout:
    """The layout under podlab's state directory."""
    return Layout(paths.state_dir())


def binaries_dir(name: str, version: str) -> Path:
    """Cache directory for one build, keyed by component and version."""
    return paths.cache_dir() / "bin" / f"{name}-{version}"
