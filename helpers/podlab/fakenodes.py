"""Fake nodes under KWOK, one set per lab session, that only the session's own pods can use.

A fake node is a Node object (a manifest file beside the chapter, in the shape of upstream's
kwokctl node template) that the KWOK controller (podlab.cluster.kwok, a cluster add-on) makes
act as a node: it turns Ready, its Lease is renewed, and pods bound to it are reported Running.
Nodes are cluster-scoped and several sessions may run the same chapter, so the only thing a
manifest file cannot say is filled in per session here, and nothing else is changed:

- the node's name (and its `kubernetes.io/hostname` label, as a kubelet sets it) gets the
  session's id as a suffix: `kwok-small` → `kwok-small-<session>`;
- the node's taint `podlab.dev/fake-node` (NoSchedule, declared in the file) gets the session
  as its value, and so does a pod's toleration of that key: a pod of another lab or session
  does not tolerate it and never lands there.

A fake node carries no `kubernetes.io/os` label: DaemonSets such as kube-proxy select it and
tolerate every taint, so without it no DaemonSet pod lands on a fake node either.

The node is applied with `lab.apply`, which labels it with the session and removes it when
the lab closes (and after a killed kernel).
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

from .conditions import WaitCondition
from .errors import PodlabError
from .manifests import Manifest, load_manifests
from .objects import KubeObject, parse_time

TAINT_KEY = "podlab.dev/fake-node"
HOSTNAME_LABEL = "kubernetes.io/hostname"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
# DaemonSets (kube-proxy) select this label and tolerate every taint: a fake node must not carry it.
OS_LABELS = ("kubernetes.io/os", "beta.kubernetes.io/os")
# KWOK's node-initialize Stage acts as soon as it sees the node: a few seconds on a busy node.
READY_TIMEOUT = 60.0


def _node_ready(node: Any) -> bool:
    conditions = ((node or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


node_ready = WaitCondition("Ready (condition Ready=True)", lambda n: n is not None and _node_ready(n))
"""A node whose Ready condition is True."""


def _lifecycle_taints(node: Any) -> list[dict[str, Any]]:
    return [t for t in ((node or {}).get("spec") or {}).get("taints") or []
            if t.get("key", "").startswith("node.kubernetes.io/")]


# Ready is not enough before the scheduler may pick a new node: the API server's TaintNodesByCondition
# admission plugin puts node.kubernetes.io/not-ready:NoSchedule on every node it creates
# (plugin/pkg/admission/nodetaint/admission.go), and the node controller removes it only after it has
# seen the node Ready. Upstream's e2e framework waits the same way (isNodeSchedulableWithoutTaints in
# test/e2e/framework/node/resource.go).
schedulable = WaitCondition("Ready, without the node controller's node.kubernetes.io taints",
                            lambda n: n is not None and _node_ready(n) and not _lifecycle_taints(n))
"""A node whose Ready condition is True and that carries no node.kubernetes.io/ taint (not-ready, unreachable, ...)."""


def session_node_name(lab: Any, name: str) -> str:
    """The name a fake node of manifest name `name` has in this lab session."""
    return f"{name}-{lab.session}"


def toleration(lab: Any) -> dict[str, str]:
    """The toleration of this session's fake nodes' taint."""
    return {"key": TAINT_KEY, "operator": "Equal", "value": lab.session, "effect": "NoSchedule"}


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return [spec]
    template = (spec.get("jobTemplate") or {}).get("spec", spec).get("template") or {}
    return [template["spec"]] if template.get("spec") else []


def _for_node(lab: Any, node: dict[str, Any]) -> dict[str, Any]:
    taints = (node.get("spec") or {}).get("taints") or []
    ours = [t for t in taints if t.get("key") == TAINT_KEY]
    if not ours or any(t.get("effect") != "NoSchedule" for t in ours):
        raise PodlabError(f"Fake node {node['metadata']['name']!r} does not carry the taint {TAINT_KEY} (NoSchedule).",
                          hint=f"Add `spec.taints: [{{key: {TAINT_KEY}, effect: NoSchedule}}]` to its manifest, "
                               "so that only this lab's pods can land on it.")
    labelled = [k for k in OS_LABELS if k in (node["metadata"].get("labels") or {})]
    if labelled:
        raise PodlabError(f"Fake node {node['metadata']['name']!r} carries the label {labelled[0]}.",
                          hint="Remove it: DaemonSets such as kube-proxy select kubernetes.io/os=linux and tolerate "
                               "every taint, so their pods would land on the fake node.")
    name = session_node_name(lab, node["metadata"]["name"])
    node["metadata"]["name"] = name
    node["metadata"].setdefault("labels", {})[HOSTNAME_LABEL] = name
    for taint in ours:
        taint["value"] = lab.session
    return node


def for_session(lab: Any, manifest: Manifest) -> list[dict[str, Any]]:
    """The manifest's objects with this session filled in: fake nodes' names and taints, pods' tolerations."""
    objects = copy.deepcopy(load_manifests(manifest))
    for obj in objects:
        if obj.get("kind") == "Node":
            _for_node(lab, obj)
        for spec in _pod_specs(obj):
            for tol in spec.get("tolerations") or []:
                if tol.get("key") == TAINT_KEY:
                    tol.update(operator="Equal", value=lab.session)
    return objects


def add(lab: Any, manifest: Manifest, *, timeout: float = READY_TIMEOUT) -> list[KubeObject]:
    """Create the manifest's fake nodes for this session (needs cluster-scoped rights); wait until each is schedulable."""
    nodes = [o for o in for_session(lab, manifest) if o.get("kind") == "Node"]
    if not nodes:
        raise PodlabError("The manifest holds no Node.", hint="Pass the fake node's manifest file.")
    for node in nodes:
        if (node["metadata"].get("annotations") or {}).get(KWOK_ANNOTATION) != "fake":
            raise PodlabError(f"Fake node {node['metadata']['name']!r} lacks the annotation {KWOK_ANNOTATION}: fake,"
                              " so KWOK would not run it.",
                              hint="KWOK's default configuration manages only nodes with that annotation.")
    lab.apply(nodes)
    return [lab.wait(n["metadata"]["name"], schedulable, kind="Node", timeout=timeout) for n in nodes]


def watch_versions(lab: Any, kind: str, name: str, *, seconds: float, namespace: str | None = None,
                   api_version: str = "v1") -> list[KubeObject]:
    """Every version of one object the API server sends in a watch of `seconds` (the first as listed)."""
    import time

    from ._api import resource_for
    from .waiting import _ApiSource, observe

    source = _ApiSource(lab.api, resource_for(lab.api, api_version, kind), namespace, name=name)
    versions: list[KubeObject] = []
    for objects in observe(source, time.monotonic() + seconds):
        for obj in objects:
            if not versions or obj["metadata"]["resourceVersion"] != versions[-1]["metadata"]["resourceVersion"]:
                versions.append(KubeObject(obj))
    return versions


# ---------------------------------------------------------------- a node that falls silent

SILENCED_BY = "podlab-silenced"
LEASE_NAMESPACE = "kube-node-lease"
LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases"
# Long enough that KWOK never finds the taken Lease expired while a chapter watches.
SILENCE_SECONDS = 3600
# KWOK renews every 10 s, so even two conflicts in a row are rare: a third means another writer.
TAKEOVER_ATTEMPTS = 3
# KWOK renews every nodeLeaseDurationSeconds / 4 (40 s in upstream's kwok.yaml): a takeover and one
# more renewal take two renewal periods, three with a renewal that failed on a stale cache.
REVIVE_TIMEOUT = 60.0
# What revive sets on the node's pods once KWOK holds the Lease again, so that KWOK re-reads them.
REVIVED_ANNOTATION = "podlab.dev/node-revived"


def _own_node(lab: Any, node: str) -> None:
    if not node.endswith(f"-{lab.session}"):
        raise PodlabError(f"{node!r} is not one of this session's fake nodes.",
                          hint="Pass the name fakenodes.add returned (it ends with the session's id).")


def silence(lab: Any, node: str) -> KubeObject:
    """Stop KWOK renewing this session's fake node's Lease, as if its kubelet died; returns the Lease.

    KWOK v0.8.0 keeps renewing a node's Lease until the Node is deleted (taking its annotation
    away does not stop it), and renews only a Lease it holds or one that expired. So the Lease
    is taken over: another holder, a duration of an hour, and a renewTime later than KWOK's
    last. KWOK stops renewing and, no longer holding the Lease, stops acting on the node and its
    pods. `revive` (also run when the lab closes) hands it back.

    The takeover must itself be a renewal. With NodeControllerLeaseCircuitBreaker (beta, on by
    default in 1.37) the node lifecycle controller, before it marks a node Unknown, compares the
    live Lease's resourceVersion with that of the Lease it kept when it last saw renewTime
    advance, and skips the node while they differ (`tryUpdateNodeHealth`,
    pkg/controller/nodelifecycle/node_lifecycle_controller.go, v1.37.2). A write that left
    renewTime alone, after the controller had kept KWOK's last renewal, would leave them
    different for good, and the node would stay Ready. So the takeover's renewTime is after the
    one it replaces (even when KWOK's clock is ahead of ours), and it is written only over the
    version it was computed from (a renewal in between: read again).
    """
    from kubernetes.client.exceptions import ApiException

    from ._api import request_json

    _own_node(lab, node)
    lab.defer(lambda: revive(lab, node, settle=False))   # revive leaves a Lease it did not take alone
    for _ in range(TAKEOVER_ATTEMPTS):
        current = request_json(lab.api, "GET", f"{LEASES}/{node}")
        body = {"metadata": {"resourceVersion": current["metadata"]["resourceVersion"]},
                "spec": {"holderIdentity": SILENCED_BY, "leaseDurationSeconds": SILENCE_SECONDS,
                         "renewTime": _takeover_time(_renew_time(current))}}
        try:
            return KubeObject(request_json(lab.api, "PATCH", f"{LEASES}/{node}", body=body,
                                           content_type="application/merge-patch+json"))
        except ApiException as e:
            if e.status != 409:   # 409 Conflict: KWOK renewed after our read
                raise
    raise PodlabError(f"Could not take over the Lease of {node}: it changed under each of {TAKEOVER_ATTEMPTS} attempts.",
                      hint="Something other than KWOK writes this Lease; look at its managedFields.")


def _takeover_time(renewed: datetime | None) -> str:
    """The takeover's renewTime (a MicroTime): now, or 1 ms after renewed when renewed is not earlier."""
    now = datetime.now(timezone.utc)
    if renewed is not None and renewed >= now:
        now = renewed + timedelta(milliseconds=1)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _spec(lease: Any) -> dict[str, Any]:
    return (lease or {}).get("spec") or {}


def _renew_time(lease: Any) -> datetime | None:
    return parse_time(_spec(lease).get("renewTime"))


def taken_back(lease: Any) -> bool:
    """Whether a holder other than `silence`'s holds the Lease (KWOK took it back)."""
    holder = _spec(lease).get("holderIdentity")
    return bool(holder) and holder != SILENCED_BY


def renewed_since(lease: Any, takeover: Any) -> bool:
    """Whether the holder that took the Lease back has renewed it again since (same holder, later renewTime)."""
    if not taken_back(lease) or _spec(lease).get("holderIdentity") != _spec(takeover).get("holderIdentity"):
        return False
    now, then = _renew_time(lease), _renew_time(takeover)
    return now is not None and then is not None and now > then


def revive(lab: Any, node: str, *, settle: bool = True, timeout: float = REVIVE_TIMEOUT) -> None:
    """Hand a silenced node's Lease back to KWOK; with settle, wait until KWOK acts on the node's pods again.

    KWOK takes an expired Lease at its next renewal (every 10 s) and then re-reads the node's pods,
    but it judges each pod by its own, informer-cached copy of the Lease: when that copy still
    shows the old holder, the pods are skipped ("read only") and not looked at again until they
    change, so a pod whose deletion began while the node was silent would stay terminating.
    settle therefore waits for a second renewal by the same holder (KWOK updates the Lease from
    its cached copy, so that update succeeding means the copy shows KWOK holding it) and then
    touches each of the lab's pods bound to the node with an annotation, which KWOK sees as a
    change, as a restarted kubelet re-reads every pod bound to it.
    """
    import time

    from kubernetes.client.exceptions import ApiException

    from ._api import request_json
    from .conditions import satisfies
    from .waiting import wait_until

    _own_node(lab, node)
    try:
        lease = request_json(lab.api, "GET", f"{LEASES}/{node}")
        if lease["spec"].get("holderIdentity") != SILENCED_BY:
            return
        request_json(lab.api, "PATCH", f"{LEASES}/{node}", body={"spec": {"leaseDurationSeconds": 1}},
                     content_type="application/merge-patch+json")
    except ApiException as e:
        if e.status != 404:  # the node (and its Lease with it) is gone: nothing to hand back
            raise
        return
    if not settle:
        return
    deadline = time.monotonic() + timeout

    def wait_lease(condition: Any) -> KubeObject:
        return wait_until(LEASE_NAMESPACE, node, condition, kind="Lease", api_version="coordination.k8s.io/v1",
                          timeout=max(deadline - time.monotonic(), 1.0), api=lab.api)

    takeover = wait_lease(satisfies(taken_back, "held by KWOK again"))
    confirmed = wait_lease(satisfies(lambda lease: renewed_since(lease, takeover),
                                     "renewed again by the holder that took it back"))
    pods = request_json(lab.api, "GET", f"/api/v1/namespaces/{lab.namespace}/pods",
                        query=[("fieldSelector", f"spec.nodeName={node}")])
    body = {"metadata": {"annotations": {REVIVED_ANNOTATION: confirmed["spec"]["renewTime"]}}}
    for pod in pods.get("items") or []:
        try:
            request_json(lab.api, "PATCH", f"/api/v1/namespaces/{lab.namespace}/pods/{pod['metadata']['name']}",
                         body=body, content_type="application/merge-patch+json")
        except ApiException as e:
            if e.status != 404:  # already deleted (KWOK's own re-read won): nothing to touch
                raise
