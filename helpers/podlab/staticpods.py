"""Static pods: a pod file put into the kubelet's static pod directory (through a hostPath pod), and taken out.

The kubelet runs every pod file it finds in its `staticPodPath` and shows each one on the API
server as a *mirror pod* named `<pod>-<node>`. A session writes its file under a name of its own
(`podlab-<session>-<pod>.json`), with the lab's namespace and the session's labels, so that two
sessions never share one, and `write` has the lab remove it when it closes.

A killed kernel cannot remove its file, and the kubelet would run it for as long as the file is
there. Before it writes the file, `write` records it in a ConfigMap in the lab's namespace (the
node and the file's name), and the mirror pod carries the file's labels, session label included:
`remove_orphans`, run by the reaper and by the sweeps of ended sessions (`podlab clean`, open_lab)
before the session's namespace goes, finds the files of ended sessions from both (a record
covers a kernel killed before the kubelet made the mirror pod, or while a chapter had deleted
it), removes them (one throwaway pod per node, only when there is one to remove, only files named
`podlab-<session>-...`), and waits until the kubelet has deleted the mirror pods.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import api_error, request_json, send_request
from .conditions import deleted
from .errors import PodlabError
from .manifests import Manifest, load_manifests
from .nodefiles import run_on_node
from .ownership import MANAGED_BY, SESSION_LABEL, session_labels
from .timeouts import DELETION
from .waiting import wait_until

if TYPE_CHECKING:
    from .session import Lab


_MIRROR = "kubernetes.io/config.mirror"  # the annotation the kubelet puts on each mirror pod
_RECORD = "podlab.dev/static-pod-file"   # the label of the ConfigMap that records a written file
_SESSION_ID = re.compile(r"[a-z0-9]+\Z")  # a session id as open_lab makes them
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?\Z")  # a pod's or a node's name


def static_pod_file(manifest: Mapping[str, Any], *, namespace: str, lab: str, session: str) -> tuple[str, str]:
    """The file name (one per session) and JSON text of a static pod: in namespace, with the session's labels."""
    if manifest.get("kind") != "Pod" or manifest.get("apiVersion") != "v1":
        raise PodlabError(f"A static pod file holds one v1 Pod, not {manifest.get('apiVersion')}/{manifest.get('kind')}.",
                          hint="Give podlab.staticpods.write a manifest of one Pod.")
    pod = json.loads(json.dumps(manifest))  # a deep copy, plain JSON types
    pod["metadata"]["namespace"] = namespace
    pod["metadata"]["labels"] = {**(pod["metadata"].get("labels") or {}), **session_labels(lab, session)}
    return f"podlab-{session}-{pod['metadata']['name']}.json", json.dumps(pod, indent=2, sort_keys=True) + "\n"


def mirror_pod_name(pod: str, node: str) -> str:
    """The name of a static pod's mirror pod on the API server: the pod's name, '-', the node's name."""
    return f"{pod}-{node}"


def static_pod_path(lab: Lab, node: str) -> str:
    """The node's kubelet's staticPodPath, read from its configuration (the node proxy's /configz)."""
    return _static_pod_path(lab.api, node)


def _static_pod_path(api: client.ApiClient, node: str) -> str:
    reply = send_request(api, "GET", f"/api/v1/nodes/{node}/proxy/configz")
    if reply.status != 200:
        raise PodlabError(f"Cannot read the kubelet's configuration on node {node}: HTTP {reply.status}.",
                          hint="Reading /configz through the node proxy needs the nodes/proxy permission.")
    try:
        path = json.loads(reply.message)["kubeletconfig"].get("staticPodPath", "")
    except (ValueError, KeyError, AttributeError):
        raise PodlabError(f"The kubelet's /configz on node {node} is not a kubelet configuration: {reply.message[:200]!r}",
                          hint="Read it by hand: kubectl get --raw /api/v1/nodes/<node>/proxy/configz") from None
    if not path:
        raise PodlabError(f"The kubelet on node {node} reads no static pod directory (staticPodPath is empty).",
                          hint="Set staticPodPath in the kubelet's configuration (kubeadm sets /etc/kubernetes/manifests).")
    return path


def write(lab: Lab, manifest: Manifest, *, node: str) -> str:
    """Put a Pod manifest into node's static pod directory for this lab (removed when it closes); return the mirror pod's name."""
    [pod] = load_manifests(manifest)
    name, text = static_pod_file(pod, namespace=lab.namespace, lab=lab.name, session=lab.session)
    directory = static_pod_path(lab, node)
    lab.defer(lambda: remove(lab, manifest, node=node))  # first, so that a failed write is cleaned up too
    lab.apply(_record(pod["metadata"]["name"], node, name, lab=lab.name, session=lab.session))
    temporary = posixpath.join(directory, f".{name}.tmp")  # the kubelet skips dot files: it never reads half a file
    _run_on_node(lab, node, directory, ["sh", "-c", 'printf "%s" "$CONTENT" > "$1" && mv "$1" "$2"', "sh",
                                        temporary, posixpath.join(directory, name)], content=text)
    return mirror_pod_name(pod["metadata"]["name"], node)


def remove(lab: Lab, manifest: Manifest, *, node: str) -> None:
    """Take this lab's file of a Pod manifest out of node's static pod directory (nothing if it is not there)."""
    [pod] = load_manifests(manifest)
    name, _ = static_pod_file(pod, namespace=lab.namespace, lab=lab.name, session=lab.session)
    directory = static_pod_path(lab, node)
    _run_on_node(lab, node, directory, ["rm", "-f", posixpath.join(directory, name),
                                        posixpath.join(directory, f".{name}.tmp")])


def _record(pod: str, node: str, file: str, *, lab: str, session: str) -> dict[str, Any]:
    """The ConfigMap that tells the reaper and the sweeps where this session's file of a static pod is."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"podlab-static-pod-{pod}"[:253].rstrip("-."),
                         "labels": {**session_labels(lab, session), _RECORD: "true"}},
            "data": {"node": node, "file": file}}


def _run_on_node(lab: Lab, node: str, directory: str, command: list[str], *, content: str = "") -> None:
    run_on_node(lab.api, lab.namespace, node, directory, command, content=content,
                failure=f"Cannot change {directory} on node {node}",
                hint="The pod mounts the directory as hostPath: is it there on the node?")


class _Orphan(NamedTuple):
    """A static pod file of an ended session: its node, its namespace, its mirror pod's name and its file name."""

    node: str
    namespace: str
    mirror: str
    file: str


def _orphans(pods: Iterable[Mapping[str, Any]], gone: Collection[str]) -> list[_Orphan]:
    """The mirror pods among pods whose session is in gone, each with the file write() gave it (pure)."""
    found = []
    for pod in pods:
        metadata, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        labels, node = metadata.get("labels") or {}, spec.get("nodeName") or ""
        session, name = labels.get(SESSION_LABEL, ""), metadata.get("name") or ""
        suffix = f"-{node.lower()}"  # the kubelet names a mirror pod <pod>-<node>
        if (_MIRROR not in (metadata.get("annotations") or {}) or labels.get(MANAGED_BY) != "podlab"
                or session not in gone or not _SESSION_ID.match(session)
                or not node or not name.endswith(suffix) or name == suffix):
            continue
        found.append(_Orphan(node, metadata.get("namespace") or "", name,
                            f"podlab-{session}-{name[:-len(suffix)]}.json"))
    return found


def _recorded(records: Iterable[Mapping[str, Any]], gone: Collection[str]) -> list[_Orphan]:
    """The files that write() recorded for sessions in gone, from their ConfigMaps (pure)."""
    found = []
    for record in records:
        metadata, data = record.get("metadata") or {}, record.get("data") or {}
        labels = metadata.get("labels") or {}
        session, node, file = labels.get(SESSION_LABEL, ""), data.get("node", ""), data.get("file", "")
        prefix = f"podlab-{session}-"
        if (labels.get(_RECORD) != "true" or labels.get(MANAGED_BY) != "podlab" or session not in gone
                or not _SESSION_ID.match(session) or not _DNS_NAME.match(node)
                or not file.startswith(prefix) or not file.endswith(".json")
                or not _DNS_NAME.match(file[len(prefix):-len(".json")])):
            continue
        found.append(_Orphan(node, metadata.get("namespace") or "",
                             mirror_pod_name(file[len(prefix):-len(".json")], node), file))
    return found


def _listed(api: client.ApiClient, path: str, selector: str) -> list[dict[str, Any]]:
    try:
        return request_json(api, "GET", path, query=[("labelSelector", selector)]).get("items") or []
    except ApiException as e:
        if e.status == 403:  # a client that may not list them all cannot write into a node's directory either
            return []
        raise api_error(e, f"listing {path} of ended lab sessions") from None


def remove_orphans(api: client.ApiClient, gone: Collection[str], *, wait: bool = True) -> list[str]:
    """Remove the static pod files of gone sessions (recorded, or shown by a mirror pod), wait until their mirror pods go; return node:path."""
    if not gone:
        return []
    owned = f"{MANAGED_BY}=podlab,{SESSION_LABEL}"
    found = list({(o.node, o.file): o for o in [
        *_recorded(_listed(api, "/api/v1/configmaps", f"{owned},{_RECORD}"), gone),
        *_orphans(_listed(api, "/api/v1/pods", owned), gone)]}.values())
    removed, done, failed = [], set(), []
    for node in sorted({o.node for o in found}):  # one node failing leaves the others' files to be removed
        here = [o for o in found if o.node == node]
        try:
            directory = _static_pod_path(api, node)
            paths = [posixpath.join(directory, p) for o in here for p in (o.file, f".{o.file}.tmp")]
            run_on_node(api, _pod_namespace(api, [o.namespace for o in here], node, paths), node, directory,
                        ["rm", "-f", "--", *paths],
                        failure=f"Cannot remove the static pod files of ended sessions from {directory} on node {node}",
                        hint="The pod mounts the directory as hostPath: is it there on the node?")
        except PodlabError as e:
            failed.append(e)
            continue
        done.add(node)
        removed += [f"{node}:{posixpath.join(directory, o.file)}" for o in here]
    for o in [o for o in found if wait and o.node in done]:
        wait_until(o.namespace, o.mirror, deleted, timeout=DELETION, api=api)  # the kubelet deletes it
    if failed:
        raise PodlabError("\n".join(str(e) for e in failed), hint=failed[0].hint)
    return removed


def _pod_namespace(api: client.ApiClient, namespaces: list[str], node: str, paths: list[str]) -> str:
    """A namespace of an ended session that still takes pods (Active), for the pod that removes its files."""
    for namespace in dict.fromkeys(namespaces):
        try:
            status = request_json(api, "GET", f"/api/v1/namespaces/{namespace}").get("status") or {}
            if status.get("phase") == "Active":
                return namespace
        except ApiException as e:
            if e.status != 404:
                raise api_error(e, f"reading namespace {namespace}") from None
    raise PodlabError(f"The namespaces of the ended sessions are being deleted, so no pod can remove "
                      f"{', '.join(paths)} on node {node}.",
                      hint="Remove the files on the node by hand (as root); the kubelet then stops their pods.")
