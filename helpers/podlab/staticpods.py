"""Static pods: a pod file put into the kubelet's static pod directory (through a hostPath pod), and taken out.

The kubelet runs every pod file it finds in its `staticPodPath` and shows each one on the API
server as a *mirror pod* named `<pod>-<node>`. A session writes its file under a name of its own
(`podlab-<session>-<pod>.json`), with the lab's namespace, so that two sessions never share one,
and `write` has the lab remove it when it closes.
"""

from __future__ import annotations

import json
import posixpath
import uuid
from collections.abc import Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from kubernetes.client.exceptions import ApiException

from ._api import api_error, request_json
from .errors import PodlabError
from .images import LAB_IMAGE
from .conditions import finished
from .manifests import Manifest, load_manifests
from .pods import logs
from .timeouts import NODE_FILE
from .waiting import wait_until

if TYPE_CHECKING:
    from .session import Lab


def static_pod_file(manifest: Mapping[str, Any], *, namespace: str, session: str) -> tuple[str, str]:
    """The file name and JSON text of one session's static pod: the pod in namespace, named file per session."""
    if manifest.get("kind") != "Pod" or manifest.get("apiVersion") != "v1":
        raise PodlabError(f"A static pod file holds one v1 Pod, not {manifest.get('apiVersion')}/{manifest.get('kind')}.",
                          hint="Give podlab.staticpods.write a manifest of one Pod.")
    pod = json.loads(json.dumps(manifest))  # a deep copy, plain JSON types
    pod["metadata"]["namespace"] = namespace
    return f"podlab-{session}-{pod['metadata']['name']}.json", json.dumps(pod, indent=2, sort_keys=True) + "\n"


def mirror_pod_name(pod: str, node: str) -> str:
    """The name of a static pod's mirror pod on the API server: the pod's name, '-', the node's name."""
    return f"{pod}-{node}"


def static_pod_path(lab: Lab, node: str) -> str:
    """The node's kubelet's staticPodPath, read from its configuration (the node proxy's /configz)."""
    reply = lab.request("GET", f"/api/v1/nodes/{node}/proxy/configz")
    if reply.status != 200:
        raise PodlabError(f"Cannot read the kubelet's configuration on node {node}: HTTP {reply.status}.",
                          hint="Reading /configz through the node proxy needs the nodes/proxy permission.")
    path = json.loads(reply.message)["kubeletconfig"].get("staticPodPath", "")
    if not path:
        raise PodlabError(f"The kubelet on node {node} reads no static pod directory (staticPodPath is empty).",
                          hint="Set staticPodPath in the kubelet's configuration (kubeadm sets /etc/kubernetes/manifests).")
    return path


def write(lab: Lab, manifest: Manifest, *, node: str) -> str:
    """Put a Pod manifest into node's static pod directory for this lab (removed when it closes); return the mirror pod's name."""
    [pod] = load_manifests(manifest)
    name, text = static_pod_file(pod, namespace=lab.namespace, session=lab.session)
    directory = static_pod_path(lab, node)
    lab.defer(lambda: remove(lab, manifest, node=node))  # first, so that a failed write is cleaned up too
    temporary = posixpath.join(directory, f".{name}.tmp")  # the kubelet skips dot files: it never reads half a file
    _run_on_node(lab, node, directory, ["sh", "-c", 'printf "%s" "$CONTENT" > "$1" && mv "$1" "$2"', "sh",
                                        temporary, posixpath.join(directory, name)], content=text)
    return mirror_pod_name(pod["metadata"]["name"], node)


def remove(lab: Lab, manifest: Manifest, *, node: str) -> None:
    """Take this lab's file of a Pod manifest out of node's static pod directory (nothing if it is not there)."""
    [pod] = load_manifests(manifest)
    name, _ = static_pod_file(pod, namespace=lab.namespace, session=lab.session)
    directory = static_pod_path(lab, node)
    _run_on_node(lab, node, directory, ["rm", "-f", posixpath.join(directory, name),
                                        posixpath.join(directory, f".{name}.tmp")])


def file_pod(name: str, node: str, directory: str, command: list[str], content: str = "") -> dict[str, Any]:
    """A throwaway pod on node that runs command with directory mounted at the same path (CONTENT in its environment)."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "podlab"}},
        "spec": {
            "nodeName": node, "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
            "tolerations": [{"operator": "Exists"}],
            "containers": [{"name": "files", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                            "command": command, "env": [{"name": "CONTENT", "value": content}],
                            "volumeMounts": [{"name": "dir", "mountPath": directory}]}],
            "volumes": [{"name": "dir", "hostPath": {"path": directory, "type": "Directory"}}],
        },
    }


def _run_on_node(lab: Lab, node: str, directory: str, command: list[str], *, content: str = "") -> None:
    name = f"podlab-static-files-{uuid.uuid4().hex[:8]}"
    try:
        request_json(lab.api, "POST", f"/api/v1/namespaces/{lab.namespace}/pods",
                     body=file_pod(name, node, directory, command, content))
    except ApiException as e:
        raise api_error(e, f"starting a pod to change {directory} on node {node}") from None
    try:
        ended = wait_until(lab.namespace, name, finished, timeout=NODE_FILE, api=lab.api)
        output = logs(lab.namespace, name, api=lab.api)
    finally:
        with suppress(ApiException):  # at worst it stays until its namespace goes
            request_json(lab.api, "DELETE", f"/api/v1/namespaces/{lab.namespace}/pods/{name}",
                         body={"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0})
    if ended["status"]["phase"] != "Succeeded":
        raise PodlabError(f"Cannot change {directory} on node {node}: {output.strip() or 'the pod failed'}.",
                          hint="The pod mounts the directory as hostPath: is it there on the node?")
