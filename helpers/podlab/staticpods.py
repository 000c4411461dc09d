"""Static pods: a pod file put into the kubelet's static pod directory (through a hostPath pod), and taken out.

The kubelet runs every pod file it finds in its `staticPodPath` and shows each one on the API
server as a *mirror pod* named `<pod>-<node>`. A session writes its file under a name of its own
(`podlab-<session>-<pod>.json`), with the lab's namespace, so that two sessions never share one,
and `write` has the lab remove it when it closes.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import PodlabError
from .manifests import Manifest, load_manifests
from .nodefiles import run_on_node

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


def _run_on_node(lab: Lab, node: str, directory: str, command: list[str], *, content: str = "") -> None:
    run_on_node(lab.api, lab.namespace, node, directory, command, content=content,
                failure=f"Cannot change {directory} on node {node}",
                hint="The pod mounts the directory as hostPath: is it there on the node?")
