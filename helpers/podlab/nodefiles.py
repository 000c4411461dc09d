"""Files on a node: reading what a pod wrote under NODE_SHARE_DIR, and running a throwaway pod that mounts a node directory."""

from __future__ import annotations

import posixpath
import socket
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

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
    return run_on_node(api, namespace, node, NODE_SHARE_DIR, ["cat", "--", path], read_only=True, create=True,
                       failure=f"Cannot read {path} on node {node}",
                       hint="Check the pod's hostPath and the path it wrote to.")


def node_pod(name: str, node: str, directory: str, command: list[str], *, content: str = "",
             read_only: bool = False, create: bool = False) -> dict[str, Any]:
    """A throwaway pod on node that runs command with directory mounted at the same path (CONTENT in its environment)."""
    mount: dict[str, Any] = {"name": "dir", "mountPath": directory}
    if read_only:
        mount["readOnly"] = True
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "podlab"}},
        "spec": {
            "nodeName": node, "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
            "tolerations": [{"operator": "Exists"}],
            "containers": [{"name": "files", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                            "command": command, "env": [{"name": "CONTENT", "value": content}],
                            "volumeMounts": [mount]}],
            "volumes": [{"name": "dir", "hostPath": {"path": directory,
                                                     "type": "DirectoryOrCreate" if create else "Directory"}}],
        },
    }


def run_on_node(api: client.ApiClient, namespace: str, node: str, directory: str, command: list[str], *,
                content: str = "", read_only: bool = False, create: bool = False,
                failure: str, hint: str) -> str:
    """Run command in a throwaway pod on node with directory mounted; return its output, or raise `failure: output`."""
    name = f"podlab-node-files-{uuid.uuid4().hex[:8]}"
    pod = node_pod(name, node, directory, command, content=content, read_only=read_only, create=create)
    try:
        request_json(api, "POST", f"/api/v1/namespaces/{namespace}/pods", body=pod)
    except ApiException as e:
        raise api_error(e, f"starting a pod on node {node} that mounts {directory}") from None
    try:
        ended = wait_until(namespace, name, finished, timeout=NODE_FILE, api=api)
        text = logs(namespace, name, api=api)
    finally:
        with suppress(ApiException):  # at worst it stays until its namespace goes
            request_json(api, "DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}",
                         body={"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0})
    if ended["status"]["phase"] != "Succeeded":
        raise PodlabError(f"{failure}: {text.strip() or 'the pod failed'}", hint=hint)
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
