"""The lab cluster has kind's shape: a kubeadm node whose control plane runs as static pods.

These hold on both providers (kind's node is a kubeadm node; the local provider runs kubeadm
the same way), so the book can show static pods, DaemonSets and DNS on either.
"""

from __future__ import annotations

import json

import pytest
import yaml
from kubernetes import client

from podlab import fakenodes
from podlab.cluster import active_provider_name
from podlab.cluster.local import layout as L
from podlab.conditions import deleted, in_phase, ready, satisfies
from podlab.images import AGNHOST_IMAGE, LAB_IMAGE

pytestmark = pytest.mark.live

CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
MIRROR = "kubernetes.io/config.mirror"
# kubeadm's CoreDNS ConfigMap (cmd/kubeadm/app/phases/addons/dns/manifests.go, v1.37.2) for
# dnsDomain cluster.local: answers for the cluster domain are not cached (since kubeadm 1.32).
KUBEADM_COREFILE = """\
.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
"""


@pytest.fixture(scope="module")
def core(live_cluster) -> client.CoreV1Api:
    return client.CoreV1Api(live_cluster)


@pytest.fixture(scope="module")
def node(core) -> client.V1Node:
    # KWOK's fake nodes (a chapter or a test beside this one may hold some) are not the cluster's shape
    nodes = [n for n in core.list_node().items
             if (n.metadata.annotations or {}).get(fakenodes.KWOK_ANNOTATION) != "fake"]
    assert len(nodes) == 1
    return nodes[0]


def test_server_is_kubernetes_1_37_and_the_local_provider_runs_the_default_release(live_cluster):
    version = client.VersionApi(live_cluster).get_code().git_version
    assert version.startswith("v1.37.")
    if active_provider_name() == "local":
        assert version == L.DEFAULT_KUBERNETES_VERSION


def test_node_is_named_like_kinds_and_runs_containerd_2(node):
    assert node.metadata.name == "podlab-control-plane"
    assert node.status.node_info.container_runtime_version.startswith("containerd://2.")
    assert "node-role.kubernetes.io/control-plane" in node.metadata.labels
    assert not node.spec.taints


def test_control_plane_and_etcd_are_mirror_pods_of_static_pods(core, node):
    pods = {p.metadata.name: p for p in core.list_namespaced_pod("kube-system").items}
    for component in CONTROL_PLANE:
        pod = pods[f"{component}-{node.metadata.name}"]
        assert MIRROR in pod.metadata.annotations, component
        assert pod.metadata.annotations["kubernetes.io/config.source"] == "file"
        owner, = pod.metadata.owner_references
        assert (owner.kind, owner.name) == ("Node", node.metadata.name)
        assert pod.status.phase == "Running"


def test_kube_proxy_runs_from_a_daemonset(core, live_cluster):
    daemonset = client.AppsV1Api(live_cluster).read_namespaced_daemon_set("kube-proxy", "kube-system")
    assert daemonset.status.number_ready == 1
    proxies = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-proxy").items
    assert [p.metadata.owner_references[0].kind for p in proxies] == ["DaemonSet"]
    config = core.read_namespaced_config_map("kube-proxy", "kube-system").data["config.conf"]
    assert yaml.safe_load(config)["mode"] == "iptables"


def test_coredns_is_kubeadms_addon_with_kubeadms_corefile(core, live_cluster):
    corefile = core.read_namespaced_config_map("coredns", "kube-system").data["Corefile"]
    assert corefile == KUBEADM_COREFILE
    deployment = client.AppsV1Api(live_cluster).read_namespaced_deployment("coredns", "kube-system")
    assert deployment.status.ready_replicas == 2
    assert core.read_namespaced_service("kube-dns", "kube-system").spec.cluster_ip == "10.96.0.10"


def _run_on_node(lab, name: str, script: str, env: dict[str, str] | None = None) -> None:
    """Run a shell script in a pod that mounts the node's static pod directory."""
    lab.apply({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "sh", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                                 "command": ["sh", "-c", script],
                                 "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
                                 "volumeMounts": [{"name": "manifests", "mountPath": "/manifests"}]}],
                 "volumes": [{"name": "manifests", "hostPath": {"path": "/etc/kubernetes/manifests",
                                                                "type": "Directory"}}]}})
    lab.wait(name, in_phase("Succeeded"), timeout=60)


def test_a_static_pod_file_gives_a_mirror_pod_that_deleting_does_not_stop(lab, node):
    started_file = "/tmp/started"   # written once by the container's process when it starts
    static = {"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": "static-web", "namespace": lab.namespace},
              "spec": {"terminationGracePeriodSeconds": 0,
                       "containers": [{"name": "web", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                                       "command": ["sh", "-c", f"cat /proc/uptime > {started_file}; "
                                                   "trap 'exit 0' TERM; while true; do sleep 1; done"]}]}}
    mirror_name = f"static-web-{node.metadata.name}"
    path = f"/manifests/{lab.namespace}-static-web.json"
    _run_on_node(lab, "write-static", f'printf "%s" "$MANIFEST" > {path}', {"MANIFEST": json.dumps(static)})
    try:
        mirror = lab.wait(mirror_name, ready, timeout=90)
        assert MIRROR in mirror.metadata.annotations
        started = lab.read_file(mirror_name, started_file)
        lab.delete(mirror_name)
        # The kubelet recreates the mirror pod (a new uid) for the same running container: the
        # file its process wrote once at start is unchanged and the container still answers.
        # It does so when it next syncs the static pod: its resync comes every syncFrequency
        # (1 min) with a jitter factor of 0.5 (workerResyncIntervalJitterFactor, pod_workers.go),
        # so up to 90 s later; upstream's node e2e test ("should be recreated when mirror pod
        # gracefully deleted", test/e2e_node/mirror_pod_test.go, v1.37.2) allows 2 minutes.
        lab.wait(mirror_name, satisfies(lambda p: p.metadata.uid != mirror.metadata.uid, "recreated with a new uid"),
                 timeout=120)
        assert lab.read_file(mirror_name, started_file) == started
    finally:
        _run_on_node(lab, "remove-static", f"rm -f {path}")
    lab.wait(mirror_name, deleted, timeout=90)


def test_upstreams_test_image_serves_grpc_health_for_a_grpc_probe(lab):
    """AGNHOST_IMAGE is on the node (kind pulls it, the local provider builds it) and answers gRPC probes."""
    lab.apply({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "grpc-health"},
        "spec": {"terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "agnhost", "image": AGNHOST_IMAGE, "imagePullPolicy": "IfNotPresent",
                                 "args": ["grpc-health-checking"],
                                 "readinessProbe": {"grpc": {"port": 5000}, "periodSeconds": 1}}]}})
    pod = lab.wait("grpc-health", ready, timeout=60)
    assert pod.status.containerStatuses[0].image == AGNHOST_IMAGE
