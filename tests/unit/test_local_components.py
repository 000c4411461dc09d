"""The local provider's command lines and configuration files (pure logic, no cluster)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from podlab.cluster.local import build, components, kubeadm
from podlab.cluster.local import layout as L
from podlab.errors import PodlabError

LAYOUT = L.Layout(Path("/srv/podlab-test"))
BIN = Path("/cache/bin/kubernetes-v1")
RUNC = Path("/cache/bin/runc-v1/runc")
PAUSE = "registry.k8s.io/pause:3.10.2"


def flags(component: components.Component) -> dict[str, str]:
    return dict(a.split("=", 1) for a in component.argv[1:] if a.startswith("--") and "=" in a)


def containerd_toml(**kw) -> dict:
    return tomllib.loads(components.containerd_config(LAYOUT, runc=RUNC, pause_image=PAUSE, **kw))


def test_containerd_2_config_uses_our_socket_pause_image_runc_and_cni_dir():
    config = containerd_toml()
    runtime = config["plugins"]["io.containerd.cri.v1.runtime"]
    assert config["version"] == 3
    assert config["grpc"]["address"] == "/run/podlab/containerd.sock"
    assert config["root"] == "/srv/podlab-test/containerd"
    assert config["plugins"]["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] == PAUSE
    assert runtime["cni"] == {"bin_dirs": ["/usr/lib/cni"], "conf_dir": "/srv/podlab-test/cni"}
    assert runtime["netns_mounts_under_state_dir"] is True
    runc = runtime["containerd"]["runtimes"]["runc"]
    assert runc["options"] == {"BinaryName": str(RUNC), "SystemdCgroup": False}


def test_containerd_clamps_oom_scores_only_when_asked():
    runtime = "io.containerd.cri.v1.runtime"
    assert containerd_toml()["plugins"][runtime]["restrict_oom_score_adj"] is False
    assert containerd_toml(restrict_oom_score_adj=True)["plugins"][runtime]["restrict_oom_score_adj"] is True


def test_containerd_finds_our_shim_first():
    containerd = components.containerd(LAYOUT, Path("/cache/bin/containerd-v2"), RUNC, pause_image=PAUSE)
    assert containerd.env["PATH"].startswith("/cache/bin/containerd-v2:/cache/bin/runc-v1:")


def test_kubelet_starts_like_kubeadms_systemd_drop_in():
    kubelet = components.kubelet(BIN)
    assert flags(kubelet) == {"--bootstrap-kubeconfig": "/etc/kubernetes/bootstrap-kubelet.conf",
                              "--kubeconfig": "/etc/kubernetes/kubelet.conf",
                              "--config": "/var/lib/kubelet/config.yaml"}
    assert kubelet.wait_for == "/var/lib/kubelet/config.yaml"
    assert kubelet.env_file == "/var/lib/kubelet/kubeadm-flags.env"


def test_env_file_words_reads_systemd_style_quoting():
    text = '# written by kubeadm\nKUBELET_KUBEADM_ARGS="--node-ip=10.200.0.1 --hostname-override=podlab-control-plane"\n'
    assert components.env_file_words(text, ("KUBELET_KUBEADM_ARGS", "KUBELET_EXTRA_ARGS")) == [
        "--node-ip=10.200.0.1", "--hostname-override=podlab-control-plane"]


def test_cni_network_has_no_masquerade():
    conf = json.loads(components.cni_conflist(LAYOUT))
    ptp, portmap = conf["plugins"]
    assert ptp["type"] == "ptp" and portmap["type"] == "portmap"  # as kindnet writes on a kind node
    assert ptp["ipMasq"] is False
    assert ptp["ipam"]["dataDir"] == "/srv/podlab-test/cni-ipam"
    assert ptp["ipam"]["ranges"] == [[{"subnet": L.NODE_POD_CIDR}]]


def kubeadm_docs(version: str = "v1.36.3") -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all(kubeadm.render_config(LAYOUT, version))}


def test_kubeadm_config_sets_the_release_socket_and_resolv_conf():
    docs = kubeadm_docs()
    assert docs["ClusterConfiguration"]["kubernetesVersion"] == "v1.36.3"
    assert docs["InitConfiguration"]["nodeRegistration"]["criSocket"] == "unix:///run/podlab/containerd.sock"
    assert docs["KubeletConfiguration"]["resolvConf"] == "/srv/podlab-test/config/resolv.conf"


def test_kubeadm_config_matches_kinds_cluster_shape():
    docs = kubeadm_docs()
    cluster, init = docs["ClusterConfiguration"], docs["InitConfiguration"]
    assert cluster["clusterName"] == L.CLUSTER_NAME
    assert init["nodeRegistration"]["name"] == L.NODE_NAME == "podlab-control-plane"
    assert init["nodeRegistration"]["taints"] == []
    assert cluster["networking"] == {"dnsDomain": L.CLUSTER_DOMAIN, "podSubnet": L.POD_CIDR,
                                     "serviceSubnet": L.SERVICE_CIDR}
    kubelet, proxy = docs["KubeletConfiguration"], docs["KubeProxyConfiguration"]
    assert kubelet["failCgroupV1"] is False and kubelet["cgroupDriver"] == "cgroupfs"
    assert kubelet["cgroupRoot"] == "/kubelet" and kubelet["imageGCHighThresholdPercent"] == 100
    assert proxy["mode"] == "iptables" and proxy["conntrack"]["maxPerCore"] == 0


def test_kubeadm_commands():
    assert kubeadm.init_command(Path("/b/kubeadm"), Path("/c/k.yaml"))[:3] == ["/b/kubeadm", "init", "--config=/c/k.yaml"]
    reset = kubeadm.reset_command(Path("/b/kubeadm"), LAYOUT)
    assert reset[:3] == ["/b/kubeadm", "reset", "--force"]
    assert "--cri-socket=unix:///run/podlab/containerd.sock" in reset


def test_preflight_failures_are_picked_out_of_kubeadms_output():
    output = ("[preflight] Running pre-flight checks\n"
              "error execution phase preflight: [preflight] Some fatal errors occurred:\n"
              "\t[ERROR Port-6443]: Port 6443 is in use\n"
              "\t[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty\n")
    assert kubeadm.preflight_failures(output) == ["Port-6443: Port 6443 is in use",
                                                  "DirAvailable--var-lib-etcd: /var/lib/etcd is not empty"]


def test_user_kubeconfig_renames_the_context_to_podlab():
    admin = yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "kubernetes-admin@podlab",
                            "contexts": [{"name": "kubernetes-admin@podlab",
                                          "context": {"cluster": "podlab", "user": "kubernetes-admin"}}],
                            "clusters": [], "users": []})
    config = yaml.safe_load(kubeadm.user_kubeconfig(admin))
    assert config["current-context"] == "podlab"
    assert config["contexts"][0] == {"name": "podlab", "context": {"cluster": "podlab", "user": "kubernetes-admin"}}


def test_version_ldflags_stamp_both_version_packages():
    flags_ = build.version_ldflags("v1.37.2", "2026-10-27T12:01:04Z")
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {package}.gitVersion=v1.37.2" in flags_
        assert f"-X {package}.gitMinor=37" in flags_
        assert f"-X {package}.gitTreeState=archive" in flags_


@pytest.mark.parametrize("given, expected", [("1.36.3", "v1.36.3"), ("v1.37.2", "v1.37.2"), (" v1.35.0 ", "v1.35.0")])
def test_versions_are_normalized(given, expected):
    assert build.normalize_version(given) == expected


@pytest.mark.parametrize("bad, says", [("1.36", "is not a Kubernetes release version"),
                                       ("latest", "is not a Kubernetes release version"),
                                       ("v1.34.12", "not supported"), ("2.0.0", "not supported")])
def test_bad_versions_are_refused_with_what_to_type(bad, says):
    with pytest.raises(PodlabError, match=says) as refused:
        build.normalize_version(bad)
    assert "v1.3" in refused.value.hint


def test_go_build_command_builds_all_packages_into_one_directory():
    cmd = build.go_build_command(Path("/out"), ["a/cmd/x", "a/cmd/y"], ldflags="-s", tags="notest")
    assert cmd[:4] == ["go", "build", "-o", "/out/"]
    assert cmd[-2:] == ["a/cmd/x", "a/cmd/y"]
    assert cmd[cmd.index("-tags") + 1] == "notest"


def test_go_env_is_local_and_readonly_with_cgo_only_when_asked():
    env = build.go_env()
    assert env["CGO_ENABLED"] == "0" and env["GOTOOLCHAIN"] == "local"
    assert "-mod=readonly" in env["GOFLAGS"]
    assert build.go_env(cgo=True)["CGO_ENABLED"] == "1"


def test_committed_kubernetes_wrapper_replaces_every_staging_module_at_the_default_release():
    gomod = (build.GOMOD / "kubernetes" / "go.mod").read_text()
    replaced = {line.split()[1] for line in gomod.splitlines() if line.startswith("replace k8s.io/")}
    for module in ("k8s.io/api", "k8s.io/client-go", "k8s.io/kubelet", "k8s.io/cri-client", "k8s.io/cri-streaming"):
        assert module in replaced
    assert f"\tk8s.io/kubernetes {L.DEFAULT_KUBERNETES_VERSION}" in gomod
    assert "\tk8s.io/kubernetes/cmd/kubeadm\n" in gomod


def test_render_wrapper_lists_requirements_replacements_and_tools():
    text = build.render_wrapper("x", "1.26.0", {"example.com/a": "v1.0.0"}, ["example.com/a/cmd/b"],
                                {"example.com/c": "v0.1.0"}, "go1.26")
    assert "module podlab.invalid/x\n" in text and "godebug default=go1.26" in text
    assert "require (\n\texample.com/a v1.0.0\n)" in text
    assert "replace example.com/c => example.com/c v0.1.0" in text
    assert "tool (\n\texample.com/a/cmd/b\n)" in text


def test_staging_modules_are_read_from_the_kubernetes_go_mod(tmp_path):
    (tmp_path / "go.mod").write_text("replace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n"
                                     "\tk8s.io/sample-apiserver => ./staging/src/k8s.io/sample-apiserver\n"
                                     "\tk8s.io/kubelet => ./staging/src/k8s.io/kubelet\n)\n")
    assert build.staging_modules(tmp_path) == ["k8s.io/api", "k8s.io/kubelet"]


def test_committed_modules_pin_the_runtime_versions():
    assert f"github.com/containerd/containerd/v2 {L.CONTAINERD_VERSION}" in (build.GOMOD / "containerd/go.mod").read_text()
    assert f"github.com/opencontainers/runc {L.RUNC_VERSION}" in (build.GOMOD / "runc/go.mod").read_text()


def test_a_version_the_proxy_lacks_is_told_apart_from_an_unreachable_proxy(monkeypatch):
    monkeypatch.setattr(build, "published_releases", lambda: ["v1.36.3", "v1.37.2"])
    missing = build._fetch_error("k8s.io/kubernetes@v1.37.99",
                                 "reading https://proxy/k8s.io/kubernetes/@v/v1.37.99.info: 403 Forbidden\n"
                                 "\tserver response: This module version is not available.")
    assert "has no k8s.io/kubernetes@v1.37.99" in missing.message
    assert "Releases on the proxy: v1.36.3, v1.37.2" in missing.hint
    offline = build._fetch_error("k8s.io/kubernetes@v1.35.4", "module lookup disabled by GOPROXY=off")
    assert "failed" in offline.message and "GOPROXY" in offline.hint


def test_the_clusters_processes_are_known_whichever_cache_built_them():
    from podlab.cluster.local import host

    markers = host._runtime_markers(LAYOUT)

    def ours(cmdline: str) -> bool:
        return any(m in cmdline for m in markers)

    # a kubelet started with another XDG_CACHE_HOME: kubeadm gives it no socket or state path
    assert ours("/srv/cold/cache/podlab/bin/kubernetes-v1.37.2-6c6c52268c6e/kubelet "
                "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --config=/var/lib/kubelet/config.yaml")
    assert ours("/root/.cache/podlab/bin/containerd-v2.3.7-6874632c8484/containerd-shim-runc-v2 -namespace k8s.io")
    # another provider's: a kind node's kubelet and shim, podlab's Docker engine's shim, the kind binary
    assert not ours("/usr/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf "
                    "--config=/var/lib/kubelet/config.yaml")
    assert not ours("/usr/local/bin/containerd-shim-runc-v2 -namespace k8s.io -id 1 -address /run/containerd/containerd.sock")
    assert not ours("/usr/bin/containerd-shim-runc-v2 -namespace moby -id 2 -address /run/podlab-docker/exec/containerd/containerd.sock")
    assert not ours("/root/.cache/podlab/bin/kind-v0.33.0-0123456789ab/kind create cluster --name podlab")
