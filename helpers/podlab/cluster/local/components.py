"""The local cluster's processes: their command lines and configuration files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ...images import PAUSE_IMAGE
from . import layout as L
from .layout import Layout


@dataclass(frozen=True)
class Component:
    """A long-running process of the cluster and how to tell it is healthy."""

    name: str
    argv: tuple[str, ...]
    health_url: str | None = None
    files: dict[str, str] = field(default_factory=dict)

    def log(self, layout: Layout) -> Path:
        """This component's log file."""
        return layout.logs / f"{self.name}.log"


def etcd(layout: Layout, bin_dir: Path) -> Component:
    """A single etcd member on loopback, without fsync (the data is thrown away on down)."""
    peer, client = "http://127.0.0.1:2380", "http://127.0.0.1:2379"
    return Component("etcd", (
        str(bin_dir / "etcd"), "--name=podlab", f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=podlab={peer}", "--listen-metrics-urls=",
        "--unsafe-no-fsync", "--log-level=warn",
    ), health_url=f"{client}/health")


def kube_apiserver(layout: Layout, bin_dir: Path) -> Component:
    """The API server, with the certificate set and authorizers of a real cluster."""
    pki = layout.pki
    return Component("kube-apiserver", (
        str(bin_dir / "kube-apiserver"),
        "--etcd-servers=http://127.0.0.1:2379",
        f"--advertise-address={L.NODE_IP}", f"--bind-address={L.NODE_IP}", "--secure-port=6443",
        f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        f"--kubelet-certificate-authority={pki / 'ca.crt'}",
        "--kubelet-preferred-address-types=InternalIP",
        f"--service-account-issuer=https://kubernetes.default.svc.{L.CLUSTER_DOMAIN}",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        f"--service-cluster-ip-range={L.SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        "--profiling=false",
    ), health_url=f"https://{L.NODE_IP}:6443/readyz")


def kube_controller_manager(layout: Layout, bin_dir: Path) -> Component:
    """The controllers, each with its own service account like kubeadm's set-up."""
    pki, kc = layout.pki, str(layout.pki / "controller-manager.kubeconfig")
    return Component("kube-controller-manager", (
        str(bin_dir / "kube-controller-manager"),
        f"--kubeconfig={kc}", f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}",
        "--bind-address=127.0.0.1", "--leader-elect=false", "--use-service-account-credentials=true",
        f"--service-account-private-key-file={pki / 'sa.key'}", f"--root-ca-file={pki / 'ca.crt'}",
        f"--cluster-signing-cert-file={pki / 'ca.crt'}", f"--cluster-signing-key-file={pki / 'ca.key'}",
        f"--service-cluster-ip-range={L.SERVICE_CIDR}", f"--cluster-cidr={L.POD_CIDR}",
        "--profiling=false",
    ), health_url="https://127.0.0.1:10257/healthz")


def kube_scheduler(layout: Layout, bin_dir: Path) -> Component:
    """The scheduler."""
    kc = str(layout.pki / "scheduler.kubeconfig")
    return Component("kube-scheduler", (
        str(bin_dir / "kube-scheduler"),
        f"--kubeconfig={kc}", f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}",
        "--bind-address=127.0.0.1", "--leader-elect=false", "--profiling=false",
    ), health_url="https://127.0.0.1:10259/healthz")


def containerd_config(layout: Layout, *, restrict_oom_score_adj: bool = False) -> str:
    """containerd 1.6 configuration: its own root, state and socket; CRI with our CNI and pause image.

    restrict_oom_score_adj: on hosts where even root lacks CAP_SYS_RESOURCE (some VMs and
    sandboxes), runc cannot give containers the negative OOM scores the kubelet asks for;
    containerd then clamps them to its own score instead of failing every pod.
    """
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return "\n".join([
        "version = 2",
        f'root = "{layout.containerd_root}"',
        f'state = "{layout.containerd_state}"',
        "[grpc]",
        f'  address = "{layout.containerd_socket}"',
        "[ttrpc]",
        f'  address = "{layout.containerd_socket}.ttrpc"',
        "[debug]",
        f'  address = "{layout.run / "containerd-debug.sock"}"',
        '[plugins."io.containerd.internal.v1.opt"]',
        f'  path = "{layout.state / "containerd-opt"}"',
        f"[{cri}]",
        f'  sandbox_image = "{PAUSE_IMAGE}"',
        "  enable_selinux = false",
        "  # Pod network namespaces under our state directory, so `down` finds and removes them all.",
        "  netns_mounts_under_state_dir = true",
        f"  restrict_oom_score_adj = {'true' if restrict_oom_score_adj else 'false'}",
        f"[{cri}.containerd]",
        '  snapshotter = "overlayfs"',
        '  default_runtime_name = "runc"',
        f"[{cri}.containerd.runtimes.runc]",
        '  runtime_type = "io.containerd.runc.v2"',
        f"[{cri}.containerd.runtimes.runc.options]",
        "  SystemdCgroup = false",
        f"[{cri}.cni]",
        '  bin_dir = "/usr/lib/cni"',
        f'  conf_dir = "{layout.cni_conf_dir}"',
        "",
    ])


def containerd(layout: Layout, *, restrict_oom_score_adj: bool = False) -> Component:
    """containerd from Debian, on a socket of its own so a system containerd is left alone."""
    path = layout.config / "containerd.toml"
    config = containerd_config(layout, restrict_oom_score_adj=restrict_oom_score_adj)
    return Component("containerd", ("containerd", f"--config={path}"), files={str(path): config})


def cni_conflist(layout: Layout) -> str:
    """A bridge network without masquerade: pod traffic stays on this machine."""
    return json.dumps({
        "cniVersion": "1.0.0",
        "name": L.CNI_NETWORK,
        "plugins": [
            {"type": "bridge", "bridge": L.BRIDGE, "isGateway": True, "ipMasq": False,
             "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": str(layout.state / "cni-ipam"),
                      "ranges": [[{"subnet": "10.244.0.0/24"}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }, indent=2)


def kubelet_config(layout: Layout, *, cluster_dns: bool) -> dict:
    """KubeletConfiguration: cgroup v1 allowed, cgroupfs driver, no image GC of imported images."""
    pki = layout.pki
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": L.NODE_IP,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "tlsCertFile": str(pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet-serving.key"),
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(pki / "ca.crt")}},
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        # Our machines have a hybrid (v1) cgroup hierarchy; 1.34 only warns, but say it outright.
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "failSwapOn": False,
        # No registry to pull from again: never garbage-collect the imported images.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%",
                         "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
        "clusterDomain": L.CLUSTER_DOMAIN,
        "resolvConf": "/etc/resolv.conf",
        "rotateCertificates": False,
        "serializeImagePulls": False,
    }
    if cluster_dns:
        config["clusterDNS"] = [L.DNS_SERVICE_IP]
    return config


def kubelet(layout: Layout, bin_dir: Path, *, cluster_dns: bool) -> Component:
    """The kubelet of the single node."""
    path = layout.config / "kubelet.yaml"
    return Component("kubelet", (
        str(bin_dir / "kubelet"), f"--config={path}",
        f"--kubeconfig={layout.pki / 'kubelet.kubeconfig'}",
        f"--hostname-override={L.NODE_NAME}", f"--node-ip={L.NODE_IP}",
        f"--root-dir={layout.kubelet_root}",
    ), health_url="http://127.0.0.1:10248/healthz",
        files={str(path): yaml.safe_dump(kubelet_config(layout, cluster_dns=cluster_dns), sort_keys=False)})


def kube_proxy_config(layout: Layout) -> dict:
    """KubeProxyConfiguration in iptables mode, leaving the host's conntrack sysctls alone."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(layout.pki / "kube-proxy.kubeconfig")},
        "hostnameOverride": L.NODE_NAME,
        "mode": "iptables",
        "clusterCIDR": L.POD_CIDR,
        "bindAddress": L.NODE_IP,
        "metricsBindAddress": "127.0.0.1:10249",
        "healthzBindAddress": "127.0.0.1:10256",
        "conntrack": {"maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }


def kube_proxy(layout: Layout, bin_dir: Path) -> Component:
    """kube-proxy, so Service ClusterIPs work on the node and in pods."""
    path = layout.config / "kube-proxy.yaml"
    return Component("kube-proxy", (str(bin_dir / "kube-proxy"), f"--config={path}"),
                     health_url="http://127.0.0.1:10256/healthz",
                     files={str(path): yaml.safe_dump(kube_proxy_config(layout), sort_keys=False)})
