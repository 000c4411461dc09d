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


def test_a_ready_node_is_schedulable_only_once_the_not_ready_taint_is_gone():
    ready = {"type": "Ready", "status": "True"}
    own = {"key": "podlab.dev/fake-node", "value": "b2x9k", "effect": "NoSchedule"}
    born = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
    unreachable = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}

    def node(conditions, taints):
        return {"spec": {"taints": taints}, "status": {"conditions": conditions}}

    assert fakenodes.node_ready.test(node([ready], [own, born]))
    assert not fakenodes.schedulable.test(node([ready], [own, born]))        # Ready, admission's taint still on
    assert not fakenodes.schedulable.test(node([ready], [own, unreachable]))
    assert not fakenodes.schedulable.test(node([{"type": "Ready", "status": "Unknown"}], [own]))
    assert not fakenodes.schedulable.test(None)
    assert fakenodes.schedulable.test(node([ready], [own]))                 # the session's own taint is fine


# ---------------------------------------------------------------- handing a silenced node's Lease back

KWOK_ID = "kwok-controller-7d9_3f2a"


def lease(holder, renew, transitions=1):
    return {"metadata": {"resourceVersion": f"rv-{renew}"},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 40 if holder == KWOK_ID else 1,
                     "renewTime": renew, "leaseTransitions": transitions}}


def test_taken_back_means_any_holder_but_silence():
    assert fakenodes.taken_back(lease(KWOK_ID, "2026-12-07T10:00:00.000000Z"))
    assert not fakenodes.taken_back(lease(fakenodes.SILENCED_BY, "2026-12-07T10:00:00.000000Z"))
    assert not fakenodes.taken_back({"spec": {}})
    assert not fakenodes.taken_back(None)


def test_renewed_since_needs_the_same_holder_and_a_later_renewal():
    takeover = lease(KWOK_ID, "2026-12-07T10:00:00.500000Z", transitions=2)
    assert not fakenodes.renewed_since(takeover, takeover)
    assert fakenodes.renewed_since(lease(KWOK_ID, "2026-12-07T10:00:10.400000Z", transitions=2), takeover)
    assert not fakenodes.renewed_since(lease(KWOK_ID, "2026-12-07T09:59:59.000000Z", transitions=2), takeover)
    assert not fakenodes.renewed_since(lease("another-kwok", "2026-12-07T10:00:20.000000Z", 3), takeover)
    assert not fakenodes.renewed_since(lease(fakenodes.SILENCED_BY, "2026-12-07T10:00:20.000000Z"), takeover)


class FakeCluster:
    """The Lease's successive states as a watcher sees them, and every request revive sends."""

    def __init__(self, states, pods=("leaves-unreachable-node",), gone=(), conflicts=0):
        self.states, self.seen, self.pods, self.gone = list(states), 0, list(pods), set(gone)
        self.conflicts = conflicts   # how many Lease PATCHes fail with 409, each moving to the next state
        self.log = []

    def request_json(self, api, method, path, *, query=(), body=None, content_type="application/json", timeout=0):
        from kubernetes.client.exceptions import ApiException

        self.log.append((method, path, dict(query), body))
        if method == "GET" and path.endswith("/pods"):
            return {"items": [{"metadata": {"name": name}} for name in self.pods]}
        if method == "GET":
            return self.states[self.seen]
        if "/pods/" in path and path.rsplit("/", 1)[1] in self.gone:
            raise ApiException(status=404, reason="Not Found")
        if method == "PATCH" and "/leases/" in path and self.conflicts:
            self.conflicts -= 1
            self.seen += 1          # KWOK renewed between our GET and PATCH
            raise ApiException(status=409, reason="Conflict")
        return {}

    def wait_until(self, namespace, name, condition, *, kind, api_version, timeout, api):
        assert (namespace, kind, api_version) == ("kube-node-lease", "Lease", "coordination.k8s.io/v1")
        while not condition.test(self.states[self.seen]):
            self.seen += 1           # IndexError: the condition never held in the scripted states
        self.log.append(("WAIT", condition.description, {}, self.states[self.seen]["spec"]["renewTime"]))
        return self.states[self.seen]


@pytest.fixture
def cluster(monkeypatch):
    def make(*args, **kwargs):
        fake = FakeCluster(*args, **kwargs)
        monkeypatch.setattr("podlab._api.request_json", fake.request_json)
        monkeypatch.setattr("podlab.waiting.wait_until", fake.wait_until)
        return fake
    return make


REVIVE_LAB = SimpleNamespace(session="b2x9k", namespace="podlab-ch07-b2x9k", api=None)
NODE = "kwok-small-b2x9k"


def test_revive_touches_the_pods_only_after_a_second_renewal_by_the_new_holder(cluster):
    fake = cluster([lease(fakenodes.SILENCED_BY, "2026-12-07T10:00:00.000000Z"),
                    lease(KWOK_ID, "2026-12-07T10:00:09.000000Z", 2),      # the takeover
                    lease(KWOK_ID, "2026-12-07T10:00:09.000000Z", 2),      # the same state again
                    lease(KWOK_ID, "2026-12-07T10:00:19.100000Z", 2)],     # KWOK renewed from its cache
                   pods=["leaves-unreachable-node", "already-gone"], gone={"already-gone"})
    fakenodes.revive(REVIVE_LAB, NODE)
    steps = [(method, path.rsplit("/", 1)[-1]) for method, path, _, _ in fake.log]
    assert steps == [("GET", NODE), ("PATCH", NODE), ("WAIT", "held by KWOK again"),
                     ("WAIT", "renewed again by the holder that took it back"), ("GET", "pods"),
                     ("PATCH", "leaves-unreachable-node"), ("PATCH", "already-gone")]
    assert fake.log[1][3] == {"spec": {"leaseDurationSeconds": 1}}
    assert fake.log[3][3] == "2026-12-07T10:00:19.100000Z"
    assert fake.log[4][2] == {"fieldSelector": f"spec.nodeName={NODE}"}
    assert fake.log[4][1] == "/api/v1/namespaces/podlab-ch07-b2x9k/pods"
    touched = {"metadata": {"annotations": {fakenodes.REVIVED_ANNOTATION: "2026-12-07T10:00:19.100000Z"}}}
    assert fake.log[5][3] == touched


def test_revive_without_settle_only_hands_the_lease_back(cluster):
    fake = cluster([lease(fakenodes.SILENCED_BY, "2026-12-07T10:00:00.000000Z")])
    fakenodes.revive(REVIVE_LAB, NODE, settle=False)
    assert [method for method, *_ in fake.log] == ["GET", "PATCH"]


def test_revive_leaves_a_lease_it_did_not_silence_alone(cluster):
    fake = cluster([lease(KWOK_ID, "2026-12-07T10:00:00.000000Z")])
    fakenodes.revive(REVIVE_LAB, NODE)
    assert [method for method, *_ in fake.log] == ["GET"]


def test_the_lab_closing_revives_without_waiting(cluster):
    deferred = []
    lab = SimpleNamespace(session="b2x9k", namespace="podlab-ch07-b2x9k", api=None, defer=deferred.append)
    fake = cluster([lease(fakenodes.SILENCED_BY, "2026-12-07T10:00:00.000000Z")])
    fakenodes.silence(lab, NODE)
    deferred[0]()
    assert [method for method, *_ in fake.log] == ["GET", "PATCH", "GET", "PATCH"]


SILENCE_LAB = SimpleNamespace(session="b2x9k", namespace="podlab-ch07-b2x9k", api=None, defer=lambda fn: None)


def micro(text):
    from datetime import datetime, timezone
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def test_silence_is_a_renewal_by_another_holder_over_the_version_it_read(cluster):
    # The node lifecycle controller's circuit breaker (1.37) marks a node Unknown only when the live
    # Lease is the one it kept at the last renewTime it saw advance: the takeover must advance it.
    from datetime import datetime, timedelta, timezone
    fake = cluster([lease(KWOK_ID, "2026-12-07T10:00:00.000000Z")])
    before = datetime.now(timezone.utc)
    fakenodes.silence(SILENCE_LAB, NODE)
    [(read, _, _, _), (method, path, _, body)] = fake.log
    assert (read, method, path.rsplit("/", 1)[-1]) == ("GET", "PATCH", NODE)
    assert body["metadata"] == {"resourceVersion": "rv-2026-12-07T10:00:00.000000Z"}
    spec = body["spec"]
    assert (spec["holderIdentity"], spec["leaseDurationSeconds"]) == (fakenodes.SILENCED_BY, fakenodes.SILENCE_SECONDS)
    assert before - timedelta(microseconds=1) <= micro(spec["renewTime"]) <= datetime.now(timezone.utc)


def test_silence_renews_after_a_renewal_from_a_clock_ahead_of_ours(cluster):
    fake = cluster([lease(KWOK_ID, "2099-01-01T00:00:00.000000Z")])
    fakenodes.silence(SILENCE_LAB, NODE)
    assert fake.log[1][3]["spec"]["renewTime"] == "2099-01-01T00:00:00.001000Z"


def test_silence_reads_again_after_a_conflict(cluster):
    fake = cluster([lease(KWOK_ID, "2026-12-07T10:00:00.000000Z"), lease(KWOK_ID, "2099-01-01T00:00:10.000000Z")],
                   conflicts=1)
    fakenodes.silence(SILENCE_LAB, NODE)
    assert [method for method, *_ in fake.log] == ["GET", "PATCH", "GET", "PATCH"]
    assert fake.log[3][3]["metadata"] == {"resourceVersion": "rv-2099-01-01T00:00:10.000000Z"}
    assert fake.log[3][3]["spec"]["renewTime"] == "2099-01-01T00:00:10.001000Z"


def test_silence_gives_up_on_a_lease_that_keeps_changing(cluster):
    fake = cluster([lease(KWOK_ID, f"2026-12-07T10:00:0{i}.000000Z") for i in range(4)],
                   conflicts=fakenodes.TAKEOVER_ATTEMPTS)
    with pytest.raises(PodlabError, match="changed under each of 3 attempts"):
        fakenodes.silence(SILENCE_LAB, NODE)
    assert [method for method, *_ in fake.log] == ["GET", "PATCH"] * fakenodes.TAKEOVER_ATTEMPTS
