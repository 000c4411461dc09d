"""Reading a file that a pod wrote to the node through a hostPath volume under NODE_SHARE_DIR."""

from __future__ import annotations

import posixpath
import socket
import uuid
from contextlib import suppress
from pathlib import Path

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import api_error, request_json
from .connect import connect
from .errors import PodlabError
from .images import LAB_IMAGE, NODE_SHARE_DIR
from .conditions import finished
from .pods import logs
from .timeouts import NODE_FILE
from .waiting import wait_until


def read_node_file(path: str, *, namespace: str, node: str | None = None,
                   api: client.ApiClient | None = None) -> str:
    """A file under NODE_SHARE_DIR on the node (the only node if none is named)."""
    path = posixpath.normpath(path)
    if not path.startswith(NODE_SHARE_DIR + "/"):
        raise PodlabError(f"{path} is outside {NODE_SHARE_DIR}: podlab only reads node files there.",
                          hint=f"Mount a hostPath volume under {NODE_SHARE_DIR} and write the file there.")
    api = api or connect()
    target = _node(api, node)
    if _is_this_machine(target):
        try:
            return Path(path).read_text()
        except OSError as e:
            raise PodlabError(f"Cannot read {path} on node {target.metadata.name}: {e.strerror}",
                              hint="Check the pod's hostPath and the path it wrote to.") from None
    return _read_with_pod(api, namespace, target.metadata.name, path)


def _read_with_pod(api: client.ApiClient, namespace: str, node: str, path: str) -> str:
    """Run a throwaway pod on the node that mounts NODE_SHARE_DIR and prints the file."""
    name = f"podlab-node-reader-{uuid.uuid4().hex[:8]}"
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "podlab"}},
        "spec": {
            "nodeName": node, "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
            "tolerations": [{"operator": "Exists"}],
            "containers": [{"name": "reader", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                            "command": ["cat", "--", path],
                            "volumeMounts": [{"name": "share", "mountPath": NODE_SHARE_DIR,
                                              "readOnly": True}]}],
            "volumes": [{"name": "share", "hostPath": {"path": NODE_SHARE_DIR,
                                                       "type": "DirectoryOrCreate"}}],
        },
    }
    try:
        request_json(api, "POST", f"/api/v1/namespaces/{namespace}/pods", body=pod)
    except ApiException as e:
        raise api_error(e, f"starting a pod to read {path} on node {node}") from None
    try:
        ended = wait_until(namespace, name, finished, timeout=NODE_FILE, api=api)
        text = logs(namespace, name, api=api)
    finally:
        with suppress(ApiException):  # at worst it stays until its namespace goes
            request_json(api, "DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}",
                         body={"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0})
    if ended["status"]["phase"] != "Succeeded":
        raise PodlabError(f"Cannot read {path} on node {node}: {text.strip()}",
                          hint="Check the pod's hostPath and the path it wrote to.")
    return text


def _node(api: client.ApiClient, name: str | None) -> client.V1Node:
    core = client.CoreV1Api(api)
    try:
        if name:
            return core.read_node(name)
        nodes = core.list_node().items
    except ApiException as e:
        raise api_error(e, "finding the node") from None
    nodes = [n for n in nodes if not _simulated(n)]  # another session's KWOK nodes have no files
    if len(nodes) != 1:
        raise PodlabError(f"The cluster has {len(nodes)} nodes: say which one with node=….",
                          hint="The pod's spec.nodeName tells where it ran.")
    return nodes[0]


def _simulated(node: client.V1Node) -> bool:
    """Whether the node is simulated (KWOK's annotation, or podlab's fake-node taint): no kubelet, no files."""
    annotations = node.metadata.annotations or {}
    taints = (node.spec.taints if node.spec else None) or []
    return "kwok.x-k8s.io/node" in annotations or any(t.key == "podlab.dev/fake-node" for t in taints)


def _is_this_machine(node: client.V1Node) -> bool:
    """Whether podlab runs on the node itself (then its hostPath directories are local)."""
    info = node.status.node_info if node.status else None
    machine_id = _local_machine_id()
    if machine_id and info is not None and info.machine_id == machine_id:
        return True
    labels = node.metadata.labels or {}
    hostname = socket.gethostname()
    return hostname in (node.metadata.name, labels.get("kubernetes.io/hostname"))


def _local_machine_id() -> str:
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            return Path(candidate).read_text().strip()
        except OSError:
            continue
    return ""
