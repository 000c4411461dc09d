"""The local provider's command lines and configuration files (pure logic, no cluster)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import yaml

from podlab.cluster.local import build, components, pki
from podlab.cluster.local import layout as L
from podlab.images import PAUSE_IMAGE

LAYOUT = L.Layout(Path("/srv/podlab-test"))
BIN = Path("/cache/bin/kubernetes-v1")


def flags(component: components.Component) -> dict[str, str]:
    return dict(a.split("=", 1) for a in component.argv[1:] if a.startswith("--") and "=" in a)


def test_containerd_config_uses_our_socket_pause_image_and_cni_dir():
    config = tomllib.loads(components.containerd_config(LAYOUT))
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert config["grpc"]["address"] == "/run/podlab/containerd.sock"
    assert config["root"] == "/srv/podlab-test/containerd"
    assert cri["sandbox_image"] == PAUSE_IMAGE
    assert cri["cni"]["conf_dir"] == "/srv/podlab-test/cni"
    assert cri["netns_mounts_under_state_dir"] is True
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False


def test_kubelet_cgroup_driver_matches_containerd_and_allows_cgroup_v1():
    config = components.kubelet_config(LAYOUT, cluster_dns=True)
    assert config["cgroupDriver"] == "cgroupfs"  # containerd runs runc with SystemdCgroup = false
    assert config["failCgroupV1"] is False
    assert config["imageGCHighThresholdPercent"] == 100
    assert config["clusterDNS"] == [L.DNS_SERVICE_IP]
    assert config["containerRuntimeEndpoint"] == "unix:///run/podlab/containerd.sock"
    assert "clusterDNS" not in components.kubelet_config(LAYOUT, cluster_dns=False)


def test_kubelet_component_writes_its_config_file():
    kubelet = components.kubelet(LAYOUT, BIN, cluster_dns=False)
    (path, content), = kubelet.files.items()
    assert flags(kubelet)["--config"] == path
    assert yaml.safe_load(content)["kind"] == "KubeletConfiguration"
    assert flags(kubelet)["--node-ip"] == L.NODE_IP
    assert flags(kubelet)["--hostname-override"] == L.NODE_NAME


def test_apiserver_advertises_node_ip_and_verifies_kubelets():
    api = flags(components.kube_apiserver(LAYOUT, BIN))
    assert api["--advertise-address"] == L.NODE_IP
    assert api["--service-cluster-ip-range"] == L.SERVICE_CIDR
    assert api["--authorization-mode"] == "Node,RBAC"
    assert api["--kubelet-certificate-authority"].endswith("pki/ca.crt")


def test_cni_network_has_no_masquerade():
    conf = json.loads(components.cni_conflist(LAYOUT))
    bridge = conf["plugins"][0]
    assert bridge["type"] == "bridge" and bridge["bridge"] == L.BRIDGE
    assert bridge["ipMasq"] is False
    assert bridge["ipam"]["dataDir"] == "/srv/podlab-test/cni-ipam"


def test_version_ldflags_stamp_both_version_packages():
    flags_ = build.version_ldflags("v1.34.12", "abc")
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {package}.gitVersion=v1.34.12" in flags_
        assert f"-X {package}.gitMinor=34" in flags_


def test_go_build_command_builds_all_packages_into_one_directory():
    cmd = build.go_build_command(Path("/out"), ["a/cmd/x", "a/cmd/y"], ldflags="-s", tags="notest")
    assert cmd[:4] == ["go", "build", "-o", "/out/"]
    assert cmd[-2:] == ["a/cmd/x", "a/cmd/y"]
    assert cmd[cmd.index("-tags") + 1] == "notest"


def test_go_env_is_static_local_and_readonly():
    env = build.go_env()
    assert env["CGO_ENABLED"] == "0" and env["GOTOOLCHAIN"] == "local"
    assert "-mod=readonly" in env["GOFLAGS"]


def test_apiserver_certificate_covers_every_name_pods_and_readers_use():
    apiserver = next(c for c in pki.cluster_certs() if c.name == "apiserver")
    ext = apiserver.extensions()
    for name in ("DNS:kubernetes.default.svc", f"IP:{L.KUBERNETES_SERVICE_IP}", f"IP:{L.NODE_IP}"):
        assert name in ext
    assert "extendedKeyUsage=serverAuth" in ext


def test_kubelet_client_certificate_is_a_node_identity():
    kubelet = next(c for c in pki.cluster_certs() if c.name == "kubelet-client")
    assert kubelet.subject() == f"/O=system:nodes/CN=system:node:{L.NODE_NAME}"


def test_wrapper_module_replaces_every_staging_module():
    gomod = (build.GOMOD / "kubernetes" / "go.mod").read_text()
    replaced = {line.split()[1] for line in gomod.splitlines() if line.startswith("replace k8s.io/")}
    for module in ("k8s.io/api", "k8s.io/client-go", "k8s.io/kubelet", "k8s.io/cri-client", "k8s.io/externaljwt"):
        assert module in replaced
    assert f"\tk8s.io/kubernetes {L.KUBERNETES_VERSION} " in gomod


def test_containerd_clamps_oom_scores_only_when_asked():
    assert tomllib.loads(components.containerd_config(LAYOUT))["plugins"]["io.containerd.grpc.v1.cri"][
        "restrict_oom_score_adj"] is False
    assert tomllib.loads(components.containerd_config(LAYOUT, restrict_oom_score_adj=True))["plugins"][
        "io.containerd.grpc.v1.cri"]["restrict_oom_score_adj"] is True
