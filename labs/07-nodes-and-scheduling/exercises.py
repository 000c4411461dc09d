"""Exercises of lab 07, "Nodes and scheduling, hands-on" (labs/07-nodes-and-scheduling.ipynb).

Every exercise runs its pods on this session's KWOK fake nodes (podlab.fakenodes): Node objects
that the KWOK controller makes act as nodes, each with a taint that only this session's pods can
tolerate. A check creates the fake nodes it needs if they are missing (cluster-scoped rights), and
applies the reader's pod through fakenodes.for_session, which fills in the session as the value of
a toleration of that taint, as the chapter's cells do.

Exercise 1: a pod for the large fake node, scheduled or left Pending (the FailedScheduling event's
reasons). Exercise 2: a pod Pending for want of room, to fix without lowering its requests.
Exercise 3: a pod that must leave a failed node quickly; the check silences the node
(fakenodes.silence), waits for the node controller's NoExecute taint and measures when the taint
eviction controller marks the pod for deletion. Exercise 4 asks for predictions: which of two fake
nodes the scheduler picks for two pods in turn; the check computes the expected choice with
podlab.scheduling, runs the pods and compares. Exercise 5 (chapter 8's topic, no fake node): a
Service with no endpoints; the check reads its EndpointSlices and fetches through it from a client pod.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from podlab import fakenodes, placement, podstate, scheduling
from podlab.assertions import expect_equal, expect_same, expect_true
from podlab.conditions import WaitCondition, ready, satisfies
from podlab.errors import WaitTimeout
from podlab.exercises import Predictions, apply_answer, one_of, require_pod
from podlab.manifests import load_manifests
from podlab.objects import KubeObject, parse_time
from podlab.quantities import parse_quantity
from podlab.timeouts import ANSWER_READY

HERE = Path(__file__).resolve().parent
LABEL = fakenodes.TAINT_KEY  # the fake nodes' label has the same key as their taint: podlab.dev/fake-node


# -- this session's fake nodes ----------------------------------------------------------------------

def node_file(label: str) -> Path:
    """The manifest of the fake node labelled podlab.dev/fake-node=<label>, beside this module."""
    return HERE / f"fake-node-{label}.yaml"


def node_name(lab, label: str) -> str:
    """The name this session's fake node of that label has (kwok-<label>-<session>)."""
    return fakenodes.session_node_name(lab, f"kwok-{label}")


def ensure_nodes(lab, *labels: str) -> dict[str, str]:
    """This session's fake nodes of these labels, created if missing and Ready; {label: node name}."""
    from podlab.cluster import kwok

    installed = False
    names = {}
    for label in labels:
        name = node_name(lab, label)
        if lab.request("GET", f"/api/v1/nodes/{name}").status == 404:
            if not installed:
                kwok.ensure(lab.api)  # a cluster add-on: installed once, a no-op afterwards
                installed = True
            fakenodes.add(lab, node_file(label))
        # A new node carries node.kubernetes.io/not-ready until the node controller has seen it Ready.
        lab.wait(name, fakenodes.schedulable, kind="Node", timeout=fakenodes.READY_TIMEOUT)
        names[label] = name
    return names


def _label_of(lab, node: str | None, names: dict[str, str]) -> str:
    for label, name in names.items():
        if node == name:
            return f"the {label} fake node"
    return "the cluster's real node" if node and not node.startswith("kwok-") else f"node {node}"


def _scheduled_or_not(pod: Any) -> bool:
    return bool(podstate.node_name(pod)) or podstate.unschedulable_message(pod) is not None


def place(lab, answer: str, name: str) -> dict:
    """Apply the answer (the session filled in) and wait until its pod is bound or found unschedulable."""
    apply_answer(lab, fakenodes.for_session(lab, answer))
    return lab.wait(name, satisfies(_scheduled_or_not, "bound to a node, or unschedulable"), timeout=ANSWER_READY)


def scheduler_reasons(pod: Any) -> list[str]:
    """The reasons the scheduler last gave for not placing the pod, without the node counts (which vary).

    The pod's condition PodScheduled=False carries the message of the latest FailedScheduling event.
    """
    message = podstate.unschedulable_message(pod) or ""
    found = re.match(r"0/\d+ nodes are available: (.*?)\.(?: preemption:.*)?$", message, re.S)
    if not found:
        return [message]
    return sorted({re.sub(r"^\d+ ", "", part.strip()) for part in found[1].split(", ")})


def _tolerates_fake_nodes(pod: dict) -> bool:
    return any(t.get("key") == fakenodes.TAINT_KEY for t in (pod.get("spec") or {}).get("tolerations") or [])


def _selector(pod: dict) -> str:
    selector = (pod.get("spec") or {}).get("nodeSelector") or {}
    return ", ".join(f"{k}={v}" for k, v in sorted(selector.items())) or "none"


# -- Exercise 1: a pod on a chosen fake node ----------------------------------------------------------

UNTOLERATED = "node(s) had untolerated taint(s)"


def verify_report_builder(lab, answer: str) -> None:
    require_pod(answer, "report-builder")
    names = ensure_nodes(lab, "small", "large")
    pod = place(lab, answer, "report-builder")
    node = podstate.node_name(pod)
    if not node:
        reasons = scheduler_reasons(pod)
        why = ""
        if UNTOLERATED in reasons and not _tolerates_fake_nodes(pod):
            why = (f" The pod tolerates no {fakenodes.TAINT_KEY} taint, and every fake node of this session "
                   f"carries {fakenodes.TAINT_KEY}=<session>:NoSchedule: the filter TaintToleration keeps the pod "
                   "off them before its nodeSelector is even looked at.")
        raise AssertionError(f"✗ pod report-builder stays Pending; its FailedScheduling event says: "
                             f"{'; '.join(reasons)}.{why}")
    if node != names["large"]:
        raise AssertionError(f"✗ report-builder runs on {_label_of(lab, node, names)}, not on the large fake "
                             f"node (its nodeSelector: {_selector(pod)})")
    pod = lab.wait("report-builder", ready, timeout=ANSWER_READY)
    expect_same("report-builder is bound to this session's large fake node", node, names["large"])
    expect_equal("report-builder's phase, as KWOK reports it", pod["status"]["phase"], "Running")


# -- Exercise 2: Pending with FailedScheduling -------------------------------------------------------

IMPORT_CPU, IMPORT_MEMORY = "3", "6Gi"  # what the import needs: the answer may not ask for less


def _requests(pod: dict) -> tuple[float, float]:
    cpu = memory = 0.0
    for container in (pod.get("spec") or {}).get("containers") or []:
        asked = (container.get("resources") or {}).get("requests") or {}
        cpu += float(parse_quantity(asked.get("cpu", 0)))
        memory += float(parse_quantity(asked.get("memory", 0)))
    return cpu, memory


def _allocatable(lab, names: dict[str, str]) -> str:
    parts = []
    for label, name in names.items():
        allocatable = lab.get("Node", name)["status"]["allocatable"]
        parts.append(f"{label}: {allocatable['cpu']} CPUs and {allocatable['memory']}")
    return "; ".join(parts)


def verify_batch_import(lab, answer: str) -> None:
    manifest = require_pod(answer, "batch-import")
    cpu, memory = _requests(manifest)
    if cpu < float(parse_quantity(IMPORT_CPU)) or memory < float(parse_quantity(IMPORT_MEMORY)):
        raise AssertionError(f"✗ batch-import must keep asking for at least {IMPORT_CPU} CPUs and {IMPORT_MEMORY} "
                             "of memory: the import needs them. Find it a node with room instead")
    names = ensure_nodes(lab, "small", "large")
    pod = place(lab, answer, "batch-import")
    node = podstate.node_name(pod)
    if not node:
        reasons = scheduler_reasons(pod)
        if _tolerates_fake_nodes(pod):
            # Only other sessions' fake nodes can give this reason to a pod that tolerates ours.
            reasons = [r for r in reasons if r != UNTOLERATED] or reasons
        raise AssertionError(
            f"✗ pod batch-import stays Pending; its FailedScheduling event says: {'; '.join(reasons)}. "
            f"It asks for {IMPORT_CPU} CPUs and {IMPORT_MEMORY}; its nodeSelector is {_selector(pod)}; "
            f"this session's fake nodes have allocatable {_allocatable(lab, names)}")
    if node not in names.values():
        raise AssertionError(f"✗ batch-import runs on {_label_of(lab, node, names)}: keep it on one of this "
                             "session's fake nodes")
    pod = lab.wait("batch-import", ready, timeout=ANSWER_READY)
    expect_equal("the fake node batch-import runs on", _label_of(lab, node, names), "the large fake node")
    expect_equal("its phase, as KWOK reports it", pod["status"]["phase"], "Running")


# -- Exercise 3: leaving a failed node within 10 s ---------------------------------------------------------

LEAVE_WITHIN = 10  # seconds after the node controller's NoExecute taint: the team's requirement
# The taint eviction controller marks a pod tolerationSeconds after the taint's timeAdded and
# promises nothing tighter (upstream's conformance test "evicts pods with minTolerationSeconds",
# test/e2e/node/taints.go at v1.37.2, waits up to kubeletPodDeletionDelaySeconds+10*additionalWaitPerDeleteSeconds,
# 110 s). The check waits LEAVE_WITHIN + EVICTION_ALLOWANCE s after the taint: podlab's allowance.
EVICTION_ALLOWANCE = 5
# kube-controller-manager's --node-monitor-grace-period (50 s at 1.37), then its next check (5 s) and
# the rate-limited NoExecute pass: the taint comes within this many seconds of the node falling silent.
TAINT_TIMEOUT = 50 + 60
UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_TOLERATION = 300  # the DefaultTolerationSeconds admission plugin's --default-unreachable-toleration-seconds


def _taints(node: Any) -> list[dict]:
    return ((node or {}).get("spec") or {}).get("taints") or []


def _unreachable_noexecute(node: Any) -> dict | None:
    return next((t for t in _taints(node) if t.get("key") == UNREACHABLE and t.get("effect") == "NoExecute"), None)


def edge_node(lab) -> str:
    """This session's edge fake node, Ready and without the node controller's taints (revived if silenced)."""
    name = node_name(lab, "edge")
    if lab.request("GET", f"/api/v1/nodes/{name}").status != 404:
        fakenodes.revive(lab, name)  # an earlier attempt silenced it: hand the Lease back (a no-op otherwise)
        lab.wait(name, fakenodes.schedulable, kind="Node", timeout=fakenodes.REVIVE_TIMEOUT + 60)
    ensure_nodes(lab, "edge")
    return name


def tolerated_seconds(pod: dict, key: str = UNREACHABLE) -> float | None:
    """How long the pod, as served, tolerates the NoExecute taint `key`: 0 if not at all, None if forever."""
    longest: float | None = 0
    for t in (pod.get("spec") or {}).get("tolerations") or []:
        matches = (t.get("key") in (None, "", key)) and t.get("effect") in (None, "", "NoExecute") and (
            t.get("operator") == "Exists" or t.get("key") == key)
        if not matches:
            continue
        seconds = t.get("tolerationSeconds")
        if seconds is None:
            return None
        longest = max(longest, seconds)
    return longest


def _marked(pod: Any) -> bool:
    return pod is None or bool(pod["metadata"].get("deletionTimestamp"))


def verify_edge_cache(lab, answer: str) -> None:
    manifest = require_pod(answer, "edge-cache")
    if ((manifest.get("spec") or {}).get("nodeSelector") or {}).get(LABEL) != "edge":
        raise AssertionError(f"✗ keep the pod on the edge fake node: nodeSelector {LABEL}: edge")
    node = edge_node(lab)
    try:
        pod = place(lab, answer, "edge-cache")
        if podstate.node_name(pod) != node:
            raise AssertionError("✗ edge-cache is not bound to the edge fake node: keep the starter's nodeSelector "
                                 "and its toleration of the fake nodes' taint")
        pod = lab.wait("edge-cache", ready, timeout=ANSWER_READY)
        allowed = tolerated_seconds(pod)
        fakenodes.silence(lab, node)
        tainted = lab.wait(node, satisfies(_unreachable_noexecute, f"tainted {UNREACHABLE}:NoExecute"),
                           kind="Node", timeout=TAINT_TIMEOUT)
        added = parse_time(_unreachable_noexecute(tainted)["timeAdded"]).timestamp()  # whole seconds
        deadline = added + 1 + LEAVE_WITHIN + EVICTION_ALLOWANCE
        try:
            pod = lab.wait("edge-cache", WaitCondition("marked for deletion", _marked),
                           timeout=max(deadline - time.time(), 1.0))
        except WaitTimeout:
            how_long = "forever (a toleration without tolerationSeconds)" if allowed is None else f"for {allowed:g} s"
            own = tolerated_seconds(manifest)
            added_by = (" (the DefaultTolerationSeconds admission plugin added that toleration: the pod has none "
                        "of its own for this taint)") if own == 0 and allowed == DEFAULT_TOLERATION else ""
            raise AssertionError(
                f"✗ edge-cache is still bound to the silent edge node {LEAVE_WITHIN + EVICTION_ALLOWANCE} s after "
                f"the node controller tainted it {UNREACHABLE}:NoExecute. As admitted, the pod tolerates "
                f"{UNREACHABLE} {how_long}{added_by}. A node that stops reporting gets Ready=Unknown and the "
                f"taint {UNREACHABLE}; node.kubernetes.io/not-ready is for a node that reports Ready=False") from None
        if pod is None:
            raise AssertionError("✗ edge-cache was deleted by someone else before the check could see it evicted")
        marked = parse_time(pod["metadata"]["deletionTimestamp"]).timestamp() - pod["metadata"].get(
            "deletionGracePeriodSeconds", 0)
        low, high = marked - added - 1, marked - added + 1  # both moments are whole seconds
        reason = next((e.reason for e in lab.events("edge-cache") if e.reason == "TaintManagerEviction"), None)
        expect_equal("edge-cache's eviction event", reason, "TaintManagerEviction")
        expect_true(f"it tolerates {UNREACHABLE} for at most {LEAVE_WITHIN} s", allowed is not None
                    and allowed <= LEAVE_WITHIN)
        expect_true("not (certainly) evicted before its tolerationSeconds", high >= (allowed or 0))
        print(f"{'✓' if low >= (allowed or 0) else '?'} evicted not before its tolerationSeconds after the NoExecute "
              f"taint, within {LEAVE_WITHIN + EVICTION_ALLOWANCE} s (measured: between {low:.0f} and {high:.0f} s)")
    finally:
        # Nothing on a silent node confirms a deletion: remove the pod outright (the node stays silenced
        # until the next attempt revives it, or the lab closes and deletes it).
        lab.delete("edge-cache", grace_period=0)


# -- Exercise 4: predict, then observe: the scheduler's choice -------------------------------------------

CHOICES = ("cpu-heavy", "memory-heavy")
PREDICT_PODS = {"cruncher": HERE / "predict-cruncher.yaml", "indexer": HERE / "predict-indexer.yaml"}
PREDICT_QUESTIONS = {"cruncher": "1.5 CPUs and 1 GiB, first", "indexer": "1 CPU and 1 GiB, once cruncher is bound"}
CHOICE_WORDS = " or ".join(map(repr, CHOICES))


def _observe_choices(lab) -> dict[str, str]:
    names = ensure_nodes(lab, *CHOICES)
    for pod in PREDICT_PODS:  # a clean start: nothing of an earlier attempt
        lab.delete(pod, grace_period=0)
    observed = {}
    for pod, path in PREDICT_PODS.items():
        manifest = fakenodes.for_session(lab, path)
        expected = scheduling.expected_choice(scheduling.pod_requests(manifest[0]),
                                              placement.served_nodes(lab, CHOICES))
        print(f"{pod}:\n{scheduling.format_choice(expected)}")
        lab.apply(manifest)
        bound = lab.wait(pod, satisfies(lambda p: podstate.node_name(p), "bound to a node"), timeout=ANSWER_READY)
        chosen = next((label for label, name in names.items() if name == podstate.node_name(bound)), None)
        expect_equal(f"{pod}: the scheduler's choice, as podlab.scheduling computes it", chosen, expected.winner)
        observed[pod] = chosen
    return observed


verify_predict_choice = Predictions(
    PREDICT_QUESTIONS, f"write {CHOICE_WORDS} for each pod", _observe_choices,
    validate=one_of({pod: CHOICES for pod in PREDICT_QUESTIONS}, say=f"write {CHOICE_WORDS}"))


# -- Exercise 5: a Service with no endpoints ------------------------------------------------------------

CATALOGUE_STARTER = HERE / "ex5-catalogue.starter.yaml"
CATALOGUE_REPLICAS = 2
SHOPPER = HERE / "shopper.yaml"
REACH_TIMEOUT = 20.0  # kube-proxy writes a new Service's rules within a second or two; DNS may lag a little
# busybox 1.35.0's wget crashes on its own -T option (chapter 8 says so): the time limit is timeout's.
FETCH = ["timeout", "3", "wget", "-qO-", "http://catalogue/"]


def _objects(answer: str, kind: str, name: str) -> dict:
    found = {o["metadata"]["name"]: o for o in load_manifests(answer) if o.get("kind") == kind}
    if name not in found:
        raise AssertionError(f"✗ the manifest must define a {kind} named {name!r} (keep the starter's name); "
                             f"it defines {sorted(found) or f'no {kind}'}")
    return found[name]


def _labels(labels: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none"


def _ready_endpoints(slices: list) -> int:
    return sum(1 for s in slices for e in s.get("endpoints") or [] if (e.get("conditions") or {}).get("ready"))


def verify_catalogue(lab, answer: str) -> None:
    service = _objects(answer, "Service", "catalogue")
    deployment = _objects(answer, "Deployment", "catalogue")
    if deployment.get("spec") != _objects(CATALOGUE_STARTER.read_text(), "Deployment", "catalogue").get("spec"):
        raise AssertionError("✗ keep the Deployment as the starter has it: other Services and dashboards select its "
                             "pods by their labels. Fix the Service")
    apply_answer(lab, answer)
    lab.wait("catalogue", satisfies(lambda d: ((d.get("status") or {}).get("availableReplicas") or 0)
                                    >= CATALOGUE_REPLICAS, f"{CATALOGUE_REPLICAS} available replicas"),
             kind="Deployment", api_version="apps/v1", timeout=ANSWER_READY)
    selector = (service.get("spec") or {}).get("selector") or {}
    query = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    selected = [p for p in json.loads(lab.request("GET", "/api/v1/namespaces/{namespace}/pods?labelSelector="
                                                   + query).message).get("items") or []
                if selector and not p["metadata"].get("deletionTimestamp")
                and podstate.is_ready(KubeObject(p, kind="Pod", api_version="v1"))]
    # The EndpointSlice controller lists the ready pods the selector matches, a moment after they are ready.
    slices = lab.wait_for_objects("EndpointSlice", "kubernetes.io/service-name=catalogue",
                                  lambda found: _ready_endpoints(found) == len(selected),
                                  description=f"{len(selected)} ready endpoints", api_version="discovery.k8s.io/v1",
                                  timeout=ANSWER_READY)
    if not selected:
        template = deployment["spec"]["template"]["metadata"].get("labels") or {}
        raise AssertionError(
            f"✗ Service catalogue has no endpoints: its selector ({_labels(selector)}) matches no ready pod in the "
            f"namespace, so its EndpointSlice lists none. The Deployment's pods carry {_labels(template)}; a "
            "selector matches a pod that carries every one of its labels")
    sent_to = ", ".join(str(port) for port in sorted({p.get("port") for s in slices for p in s.get("ports") or []}))
    lab.apply(SHOPPER)
    lab.wait("shopper", ready, timeout=ANSWER_READY)
    try:
        lab.exec_until("shopper", FETCH, timeout=REACH_TIMEOUT)
    except WaitTimeout:
        raise AssertionError(
            f"✗ Service catalogue has {len(selected)} endpoints, but `wget http://catalogue/` from pod shopper "
            f"fails for {REACH_TIMEOUT:.0f} s: the EndpointSlice sends the Service's port 80 to port {sent_to} of the "
            "pods (the Service's targetPort), and their app listens on 8080, the container port named http") from None
    body = lab.exec("shopper", FETCH).check().stdout.strip()
    expect_equal("ready endpoints of Service catalogue", _ready_endpoints(slices), CATALOGUE_REPLICAS)
    expect_equal("`wget http://catalogue/` from pod shopper", body, "catalogue")
