"""podlab.staticpods: the file a session puts into the kubelet's static pod directory (pure logic)."""

from __future__ import annotations

import json

import pytest

from podlab.errors import PodlabError
from podlab.nodefiles import node_pod
from podlab.staticpods import _Orphan as Orphan, _orphans as orphans, _record, _recorded, mirror_pod_name, static_pod_file

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "static-web", "labels": {"a": "b"}},
       "spec": {"containers": [{"name": "app", "image": "busybox"}]}}


SESSION = {"app.kubernetes.io/managed-by": "podlab", "podlab.dev/lab": "ch08", "podlab.dev/session": "x7k2m"}


def test_the_file_is_named_per_session_and_puts_the_pod_in_the_lab_namespace_with_the_session_labels():
    name, text = static_pod_file(POD, namespace="podlab-ch08-x7k2m", lab="ch08", session="x7k2m")
    assert name == "podlab-x7k2m-static-web.json"
    pod = json.loads(text)
    assert pod["metadata"] == {"name": "static-web", "namespace": "podlab-ch08-x7k2m",
                               "labels": {"a": "b", **SESSION}}  # the mirror pod carries them: how a sweep finds it
    assert pod["spec"] == POD["spec"]
    assert "namespace" not in POD["metadata"] and POD["metadata"]["labels"] == {"a": "b"}  # the manifest is left as it was


def test_two_sessions_never_share_a_file():
    first, _ = static_pod_file(POD, namespace="podlab-ch08-bbbbb", lab="ch08", session="bbbbb")
    second, _ = static_pod_file(POD, namespace="podlab-ch08-ccccc", lab="ch08", session="ccccc")
    assert first != second


def test_only_a_pod_can_be_a_static_pod():
    with pytest.raises(PodlabError, match="holds one v1 Pod"):
        static_pod_file({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}},
                        namespace="ns", lab="l", session="s")


def test_the_mirror_pod_is_named_after_the_pod_and_the_node():
    assert mirror_pod_name("static-web", "podlab-control-plane") == "static-web-podlab-control-plane"


def test_the_file_pod_mounts_the_directory_at_its_own_path_on_the_node():
    pod = node_pod("writer", "podlab-control-plane", "/etc/kubernetes/manifests", ["true"], content="text")
    spec = pod["spec"]
    assert spec["nodeName"] == "podlab-control-plane" and spec["restartPolicy"] == "Never"
    [container] = spec["containers"]
    assert container["volumeMounts"] == [{"name": "dir", "mountPath": "/etc/kubernetes/manifests"}]
    assert spec["volumes"] == [{"name": "dir", "hostPath": {"path": "/etc/kubernetes/manifests", "type": "Directory"}}]
    assert container["env"] == [{"name": "CONTENT", "value": "text"}]
    # reading NODE_SHARE_DIR (nodefiles): read-only, and created if a pod has not yet made it
    reader = node_pod("reader", "n", "/var/lib/podlab-share", ["cat", "--", "/var/lib/podlab-share/x"],
                      read_only=True, create=True)["spec"]
    assert reader["containers"][0]["volumeMounts"] == [{"name": "dir", "mountPath": "/var/lib/podlab-share",
                                                        "readOnly": True}]
    assert reader["volumes"][0]["hostPath"]["type"] == "DirectoryOrCreate"


def mirror(name: str = "static-web-podlab-control-plane", *, session: str = "x7k2m", node: str = "podlab-control-plane",
           annotations: dict | None = None, managed_by: str = "podlab") -> dict:
    """A pod as the API server serves a mirror pod of a session's static pod file."""
    return {"metadata": {"name": name, "namespace": f"podlab-ch08-{session}",
                         "labels": {**SESSION, "podlab.dev/session": session, "app.kubernetes.io/managed-by": managed_by},
                         "annotations": {"kubernetes.io/config.mirror": "abc", "kubernetes.io/config.source": "file"}
                         if annotations is None else annotations},
            "spec": {"nodeName": node}}


def test_a_gone_sessions_mirror_pod_names_its_file_and_node():
    assert orphans([mirror()], {"x7k2m"}) == [
        Orphan("podlab-control-plane", "podlab-ch08-x7k2m", "static-web-podlab-control-plane",
               "podlab-x7k2m-static-web.json")]


def test_the_file_name_is_the_one_write_gave_it():
    name, text = static_pod_file(POD, namespace="podlab-ch08-x7k2m", lab="ch08", session="x7k2m")
    served = json.loads(text)  # the kubelet names the mirror pod <pod>-<node> and copies the file's labels
    served["metadata"]["name"] = mirror_pod_name("static-web", "kind-node")
    served["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "h"}
    served["spec"]["nodeName"] = "kind-node"
    assert [o.file for o in orphans([served], {"x7k2m"})] == [name]


def test_a_live_sessions_mirror_pod_is_never_selected():
    pods = [mirror(session="x7k2m"), mirror(session="live1")]
    assert [o.namespace for o in orphans(pods, {"x7k2m"})] == ["podlab-ch08-x7k2m"]
    assert orphans(pods, set()) == []


def test_only_mirror_pods_that_podlab_wrote_are_selected():
    assert orphans([mirror(annotations={})], {"x7k2m"}) == []  # an ordinary pod with the session's labels
    assert orphans([mirror(managed_by="someone")], {"x7k2m"}) == []
    assert orphans([{"metadata": {"name": "web-n", "annotations": {"kubernetes.io/config.mirror": "h"}},
                     "spec": {"nodeName": "n"}}], {""}) == []  # no session label at all


def test_a_name_that_is_not_pod_dash_node_or_a_strange_session_selects_no_file():
    assert orphans([mirror("static-web-other-node")], {"x7k2m"}) == []
    assert orphans([mirror("-podlab-control-plane")], {"x7k2m"}) == []  # no pod name before the node's
    assert orphans([mirror(session="../etc")], {"../etc"}) == []  # never a file outside podlab-<session>-*
    assert orphans([mirror(node="")], {"x7k2m"}) == []


def test_the_kubelet_lowercases_the_node_name_in_the_mirror_pods_name():
    [o] = orphans([mirror("static-web-node-a", node="Node-A")], {"x7k2m"})
    assert (o.node, o.file) == ("Node-A", "podlab-x7k2m-static-web.json")


def record(file: str = "podlab-x7k2m-static-web.json", *, session: str = "x7k2m", node: str = "podlab-control-plane",
           **changed: str) -> dict:
    """The ConfigMap write() makes before it writes the file, as the API server serves it."""
    made = _record("static-web", node, file, lab="ch08", session=session)
    made["metadata"]["namespace"] = f"podlab-ch08-{session}"
    made["metadata"]["labels"].update(changed)
    return made


def test_a_recorded_file_is_found_without_its_mirror_pod():
    assert _recorded([record()], {"x7k2m"}) == [
        Orphan("podlab-control-plane", "podlab-ch08-x7k2m", "static-web-podlab-control-plane",
               "podlab-x7k2m-static-web.json")]
    assert _recorded([record()], set()) == []                                   # the session is alive
    assert _recorded([record(**{"podlab.dev/static-pod-file": "no"})], {"x7k2m"}) == []
    assert _recorded([record(**{"app.kubernetes.io/managed-by": "someone"})], {"x7k2m"}) == []


def test_a_record_never_names_a_file_outside_the_sessions_own():
    assert _recorded([record("podlab-b2x9k-static-web.json")], {"x7k2m"}) == []    # another session's name
    assert _recorded([record("podlab-x7k2m-../../etc/passwd.json")], {"x7k2m"}) == []
    assert _recorded([record("podlab-x7k2m-static-web.yaml")], {"x7k2m"}) == []
    assert _recorded([record(node="")], {"x7k2m"}) == []
    assert _recorded([record(node="a/b")], {"x7k2m"}) == []
    assert _recorded([record(session="../x")], {"../x"}) == []
