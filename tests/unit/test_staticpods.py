"""podlab.staticpods: the file a session puts into the kubelet's static pod directory (pure logic)."""

from __future__ import annotations

import json

import pytest

from podlab.errors import PodlabError
from podlab.nodefiles import node_pod
from podlab.staticpods import mirror_pod_name, static_pod_file

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "static-web", "labels": {"a": "b"}},
       "spec": {"containers": [{"name": "app", "image": "busybox"}]}}


def test_the_file_is_named_per_session_and_puts_the_pod_in_the_lab_namespace():
    name, text = static_pod_file(POD, namespace="podlab-ch08-x7k2m", session="x7k2m")
    assert name == "podlab-x7k2m-static-web.json"
    pod = json.loads(text)
    assert pod["metadata"] == {"name": "static-web", "namespace": "podlab-ch08-x7k2m", "labels": {"a": "b"}}
    assert pod["spec"] == POD["spec"]
    assert "namespace" not in POD["metadata"]  # the manifest itself is left as it was


def test_two_sessions_never_share_a_file():
    first, _ = static_pod_file(POD, namespace="podlab-ch08-bbbbb", session="bbbbb")
    second, _ = static_pod_file(POD, namespace="podlab-ch08-ccccc", session="ccccc")
    assert first != second


def test_only_a_pod_can_be_a_static_pod():
    with pytest.raises(PodlabError, match="holds one v1 Pod"):
        static_pod_file({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}},
                        namespace="ns", session="s")


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
