"""The KWOK add-on's manifests as rendered from the module's kustomizations, and fake nodes per session."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from podlab import fakenodes
from podlab.cluster import kwok
from podlab.errors import PodlabError

BOOK = Path(__file__).resolve().parents[2] / "book" / "07-nodes-and-scheduling"
LAB = SimpleNamespace(session="b2x9k")


@pytest.fixture(scope="module")
def source() -> Path:
    try:
        return kwok.module_dir()
    except PodlabError as e:  # no Go, or no module proxy: nothing to render
        pytest.skip(f"the KWOK module is not available here: {e}")


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def test_controller_manifest_is_upstreams_kustomization_rendered(source):
    objects = kwok.controller_manifests(source)
    assert len(by_kind(objects, "CustomResourceDefinition")) == 12
    [deployment] = by_kind(objects, "Deployment")
    assert deployment["metadata"]["namespace"] == "kube-system"
    # labels with includeSelectors: the selector kustomize adds, and the pod template's labels
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "kwok-controller"}}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": "kwok-controller"}
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.k8s.io/kwok/kwok:v0.8.0"
    [service] = by_kind(objects, "Service")
    assert service["spec"]["selector"] == {"app": "kwok-controller"}
    [config] = by_kind(objects, "ConfigMap")
    assert config["metadata"] == {"name": "kwok", "namespace": "kube-system", "labels": {"app": "kwok-controller"}}
    settings = yaml.safe_load(config["data"]["kwok.yaml"])
    assert settings["options"]["manageNodesWithAnnotationSelector"] == "kwok.x-k8s.io/node=fake"
    for kind in ("ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"):
        assert all("namespace" not in o["metadata"] for o in by_kind(objects, kind)), kind
    [binding] = by_kind(objects, "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kwok-controller", "namespace": "kube-system"}]


def test_stage_manifest_holds_the_default_lifecycles(source):
    names = [s["metadata"]["name"] for s in kwok.stage_manifests(source)]
    assert names == ["node-heartbeat-with-lease", "node-initialize", "pod-complete", "pod-delete", "pod-ready"]


def test_render_refuses_a_kustomization_feature_it_does_not_know(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: []\npatches: [{path: p.yaml}]\n")
    with pytest.raises(PodlabError, match="patches"):
        kwok.render(tmp_path)


def test_fake_node_gets_the_session_in_name_hostname_and_taint():
    [node] = fakenodes.for_session(LAB, BOOK / "fake-node-small.yaml")
    assert node["metadata"]["name"] == "kwok-small-b2x9k"
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "kwok-small-b2x9k"
    assert node["spec"]["taints"] == [{"key": "podlab.dev/fake-node", "effect": "NoSchedule", "value": "b2x9k"}]
    assert node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"


def test_pod_toleration_gets_the_session():
    [pod] = fakenodes.for_session(LAB, BOOK / "on-small-node.yaml")
    assert pod["spec"]["tolerations"] == [fakenodes.toleration(LAB)]
    [other] = fakenodes.for_session(LAB, BOOK / "untolerated.yaml")
    assert "tolerations" not in other["spec"]


def test_a_fake_node_without_the_taint_is_refused():
    [node] = yaml.safe_load_all((BOOK / "fake-node-small.yaml").read_text())
    del node["spec"]["taints"]
    with pytest.raises(PodlabError, match="does not carry the taint podlab.dev/fake-node"):
        fakenodes.for_session(LAB, node)
    [node] = yaml.safe_load_all((BOOK / "fake-node-small.yaml").read_text())
    del node["metadata"]["annotations"]["kwok.x-k8s.io/node"]
    with pytest.raises(PodlabError, match="lacks the annotation"):
        fakenodes.add(LAB, node)


def test_a_fake_node_with_an_os_label_is_refused():
    [node] = yaml.safe_load_all((BOOK / "fake-node-small.yaml").read_text())
    node["metadata"]["labels"]["kubernetes.io/os"] = "linux"
    with pytest.raises(PodlabError, match="kubernetes.io/os"):
        fakenodes.for_session(LAB, node)
