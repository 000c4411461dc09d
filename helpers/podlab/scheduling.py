"""The node kube-scheduler v1.37.2 should pick, computed from nodes' sizes and pods' requests.

Pure arithmetic: nothing here talks to a cluster. Chapter 7 computes with it what the scheduler
will do with its fake nodes, then checks the real choice against it, and prints the source's old
0-10 priorities beside today's scores.

    small = scheduling.node("small", cpu="2", memory="4Gi")
    large = scheduling.node("large", cpu="8", memory="16Gi")
    choice = scheduling.expected_choice(scheduling.requests(cpu="500m", memory="1Gi"), [small, large])
    print(scheduling.format_choice(choice))

Nodes come as plain values (`node`) or as served objects (`node_state(node, pods)`); a pod's
requests as plain values (`requests`) or from a Pod (`pod_requests(pod)`).

What is mirrored, from k8s.io/kubernetes@v1.37.2 (paths below are under pkg/scheduler/):

- NodeResourcesFit's score with its default strategy, LeastAllocated on cpu and memory at weight 1
  (apis/config/v1/defaults.go, `SetDefaults_NodeResourcesFitArgs`;
  framework/plugins/noderesources/least_allocated.go and resource_allocation.go);
- NodeResourcesBalancedAllocation's score (framework/plugins/noderesources/balanced_allocation.go);
- neither plugin has a NormalizeScore step (both `ScoreExtensions()` return nil), so the
  framework multiplies each score by the plugin's weight and adds them up
  (framework/runtime/framework.go: `weightedScore := score * int64(weights[i])`);
- the weights of the default profile (apis/config/v1/default_plugins.go): NodeResourcesFit 1,
  NodeResourcesBalancedAllocation 1, and the other score plugins in `DEFAULT_SCORE_WEIGHTS`;
- NodeResourcesFit's filter for cpu, memory and the pod count (fit.go, `fitsRequest`), and
  schedule_one.go's rule that a single feasible node is taken without scoring.

The other default score plugins (TaintToleration, NodeAffinity, PodTopologySpread,
InterPodAffinity, ImageLocality, DynamicResources) are not computed: `expected_choice` assumes
they give every feasible node the same score, which holds for pods with no preferences, claims or
spreading among nodes without PreferNoSchedule taints or cached images (the chapter's fake nodes).
A scheduler at verbosity 10 logs each plugin's weighted score ("Plugin scored node for pod",
schedule_one.go), which is how a chapter checks that assumption.

Not modelled: extended resources, ephemeral storage, DRA, a resized pod's status resources (a pod
that was never resized has status equal to spec), pod groups.

Ties: the scheduler orders scored nodes in a heap by TotalScore, then by a `Randomizer` field
(framework/sorted_nodes.go). At v1.37.2 only nodes scored by an extender get a random Randomizer
(schedule_one.go: `nodesScores[i].Randomizer = rand.Int()` inside the extenders branch), so
without extenders a tie is settled by the order in which the parallel filters admitted the nodes
(kubernetes/kubernetes pull request #141024, open, proposes randomizing every node). Either way
no one can predict the tied winner: `expected_choice` reports a tie as a tie and picks none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from .errors import PodlabError
from .quantities import parse_quantity

__all__ = ["Resources", "PodRequests", "NodeState", "NodeScores", "Choice", "requests", "pod_requests",
           "node", "node_state", "insufficient", "fit_score", "balanced_score", "old_scores",
           "expected_choice", "format_choice", "unschedulable_reasons", "verbose_scheduler_name",
           "for_verbose_scheduler", "plugin_scores", "component_config", "MAX_NODE_SCORE",
           "DEFAULT_SCORE_WEIGHTS"]

RELEASE = "v1.37.2"

# k8s.io/kube-scheduler@v0.37.2 framework/interface.go: "MaxScore int64 = 100" (MaxNodeScore = MaxScore).
MAX_NODE_SCORE = 100

# pkg/scheduler/util/pod_resources.go:
#   DefaultMilliCPURequest int64 = 100 // 0.1 core
#   DefaultMemoryRequest int64 = 200 * 1024 * 1024 // 200 MB
# (the comment says MB; the value is 200 MiB). "for the purpose of computing priority only".
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

FIT = "NodeResourcesFit"
BALANCED = "NodeResourcesBalancedAllocation"

# apis/config/v1/default_plugins.go, getDefaultPlugins(): the plugins with a Score extension and
# their weights. DynamicResources is added by applyDynamicResources with weight 2 because the
# DynamicResourceAllocation gate is GA and on at 1.37 (pkg/features/kube_features.go). VolumeBinding
# also scores, with the framework's default weight 1 (framework/runtime/framework.go,
# getValidScoreWeights: a weight of 0 becomes 1); it is not listed here because the configuration
# gives it no explicit weight. With the StorageCapacityScoring gate (beta, on by default at 1.37) its
# PreScore does not skip (volumebinding/volume_binding.go:
# `if state.hasStaticBindings || pl.fts.EnableStorageCapacityScoring { return nil }`), so it scores
# every pod, 0 for a pod without volumes; that adds the same 0 to every node and changes no choice.
DEFAULT_SCORE_WEIGHTS: dict[str, int] = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    FIT: 1,
    "PodTopologySpread": 2,
    "InterPodAffinity": 2,
    BALANCED: 1,
    "ImageLocality": 1,
    "DynamicResources": 2,
}

# The source's priorities scored 0-10 (old plugin/pkg/scheduler/algorithm/priorities/priorities.go:
# "the unused capacity is calculated on a scale of 0-10"), and the old default provider gave
# LeastRequestedPriority and BalancedResourceAllocation weight 1 each
# (plugin/pkg/scheduler/algorithmprovider/defaults/defaults.go:
# `factory.RegisterPriorityFunction2("LeastRequestedPriority", priorities.LeastRequestedPriorityMap, nil, 1)`).
OLD_MAX_PRIORITY = 10
OLD_WEIGHTS = {"LeastRequestedPriority": 1, "BalancedResourceAllocation": 1}

_TERMINAL_PHASES = ("Succeeded", "Failed")


@dataclass(frozen=True)
class Resources:
    """CPU in millicores and memory in bytes, as the scheduler holds them (int64)."""

    milli_cpu: int = 0
    memory: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.milli_cpu + other.milli_cpu, self.memory + other.memory)


@dataclass(frozen=True)
class PodRequests:
    """A pod's requests as the scheduler sums them: as written, and with the non-zero defaults."""

    requested: Resources
    non_zero: Resources


@dataclass(frozen=True)
class NodeState:
    """A node's allocatable cpu and memory and what its pods already request (the scheduler's NodeInfo)."""

    name: str
    allocatable: Resources
    requested: Resources = Resources()
    non_zero_requested: Resources = Resources()
    pods: int = 0
    allowed_pods: int | None = None


@dataclass(frozen=True)
class NodeScores:
    """One feasible node's scores: today's two resource plugins and their weighted sum, and the old 0-10 pair."""

    node: str
    fit: int
    balanced: int | None
    total: int
    old_least_requested: int
    old_balanced: int
    old_total: int


@dataclass(frozen=True)
class Choice:
    """The scheduler's expected choice: the feasible nodes' scores, the filtered nodes, and the top scorers."""

    scores: tuple[NodeScores, ...]
    filtered: tuple[tuple[str, tuple[str, ...]], ...]
    best: tuple[str, ...]
    old_best: tuple[str, ...]
    scored: bool

    @property
    def tie(self) -> bool:
        """Several nodes share the highest total: the scheduler's pick among them cannot be predicted."""
        return len(self.best) > 1

    @property
    def winner(self) -> str | None:
        """The node the scheduler will pick, or None when no node fits or several tie."""
        return self.best[0] if len(self.best) == 1 else None

    @property
    def old_tie(self) -> bool:
        """Several nodes share the highest old 0-10 total."""
        return len(self.old_best) > 1


# ---------------------------------------------------------------- integer arithmetic as Go does it

def _go_div(a: int, b: int) -> int:
    """Go's int64 division, which truncates toward zero (Python's // floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _milli_value(quantity: str | int | float) -> int:
    """resource.Quantity.MilliValue(): ceil(q * 1000)."""
    return int((_quantity(quantity) * 1000).to_integral_value(rounding=ROUND_CEILING))


def _value(quantity: str | int | float) -> int:
    """resource.Quantity.Value(): ceil(q)."""
    return int(_quantity(quantity).to_integral_value(rounding=ROUND_CEILING))


def _quantity(quantity: str | int | float) -> Decimal:
    try:
        return parse_quantity(quantity)
    except (ValueError, TypeError) as exc:
        raise PodlabError(f"{quantity!r} is not a Kubernetes quantity.",
                          hint='Write it as the API does: cpu "500m" or "2", memory "256Mi" or "1Gi".') from exc


# ---------------------------------------------------------------- a pod's requests

def requests(cpu: str | int | None = None, memory: str | int | None = None) -> PodRequests:
    """The requests of a pod with one container requesting `cpu` and `memory` (None: not set)."""
    container: dict[str, Any] = {}
    if cpu is not None:
        container["cpu"] = cpu
    if memory is not None:
        container["memory"] = memory
    pod = {"spec": {"containers": [{"name": "app", "resources": {"requests": container}}]}}
    return pod_requests(pod)


def _container_requests(container: Mapping[str, Any]) -> dict[str, Decimal]:
    # pkg/apis/core/v1/defaults.go, SetDefaults_Pod: "If limits are specified, but requests are not,
    # default requests to limits" (per resource). The API server has done it for a served pod.
    resources = container.get("resources") or {}
    out = {k: _quantity(v) for k, v in (resources.get("limits") or {}).items()}
    out.update({k: _quantity(v) for k, v in (resources.get("requests") or {}).items()})
    return {k: v for k, v in out.items() if k in ("cpu", "memory")}


def _apply_non_missing(reqs: dict[str, Decimal]) -> dict[str, Decimal]:
    # k8s.io/component-helpers@v0.37.2 resource/helpers.go, applyNonMissing: "replaced by the
    # nonMissing values" only `if _, found := reqs[k]; !found` -- an explicit "0" stays 0.
    out = dict(reqs)
    out.setdefault("cpu", Decimal(DEFAULT_MILLI_CPU_REQUEST) / 1000)
    out.setdefault("memory", Decimal(DEFAULT_MEMORY_REQUEST))
    return out


def _add(total: dict[str, Decimal], more: Mapping[str, Decimal]) -> None:
    for k, v in more.items():
        total[k] = total.get(k, Decimal(0)) + v


def _max(total: dict[str, Decimal], more: Mapping[str, Decimal]) -> None:
    for k, v in more.items():
        if k not in total or v > total[k]:
            total[k] = v


def _aggregate(spec: Mapping[str, Any], non_zero: bool) -> dict[str, Decimal]:
    """component-helpers resource/helpers.go, aggregateContainerResourcesByFn and PodRequests."""
    fill = _apply_non_missing if non_zero else dict
    result: dict[str, Decimal] = {}
    for container in spec.get("containers") or []:
        _add(result, fill(_container_requests(container)))
    restartable: dict[str, Decimal] = {}
    init: dict[str, Decimal] = {}
    for container in spec.get("initContainers") or []:
        own = fill(_container_requests(container))
        if container.get("restartPolicy") == "Always":  # a sidecar: runs beside the app containers
            _add(result, own)
            _add(restartable, own)
            own = dict(restartable)
        else:
            combined = dict(own)
            _add(combined, restartable)
            own = combined
        _max(init, own)
    _max(result, init)
    # Pod-level requests (PodLevelResources, beta and on at 1.37) replace the containers' sum.
    pod_level = ((spec.get("resources") or {}).get("requests")) or {}
    for k in ("cpu", "memory"):
        if k in pod_level:
            result[k] = _quantity(pod_level[k])
    _add(result, {k: _quantity(v) for k, v in (spec.get("overhead") or {}).items() if k in ("cpu", "memory")})
    return result


def _to_resources(reqs: Mapping[str, Decimal]) -> Resources:
    # resource_allocation.go: `if resourceName == v1.ResourceCPU { return quantity.MilliValue() }`
    # `return quantity.Value()`
    return Resources(_milli_value(reqs.get("cpu", Decimal(0))), _value(reqs.get("memory", Decimal(0))))


def pod_requests(pod: Mapping[str, Any]) -> PodRequests:
    """A Pod's (served or manifest dict) cpu and memory requests, as written and with the non-zero defaults."""
    spec = pod.get("spec") if isinstance(pod, Mapping) else None
    if not isinstance(spec, Mapping) or not (spec.get("containers") or spec.get("initContainers")):
        raise PodlabError("This is not a Pod with containers: no spec.containers found.",
                          hint="Pass a Pod as a dict (lab.get('pod', name) or a loaded manifest), "
                               "or use scheduling.requests(cpu=..., memory=...) for plain values.")
    return PodRequests(requested=_to_resources(_aggregate(spec, non_zero=False)),
                       non_zero=_to_resources(_aggregate(spec, non_zero=True)))


# ---------------------------------------------------------------- a node's state

def node(name: str, cpu: str | int, memory: str | int, pods: Iterable[PodRequests] = (),
         allowed_pods: int | None = None) -> NodeState:
    """A node with this allocatable cpu and memory and these pods already on it."""
    placed = list(pods)
    requested, non_zero = Resources(), Resources()
    for p in placed:
        requested, non_zero = requested + p.requested, non_zero + p.non_zero
    return NodeState(name, Resources(_milli_value(cpu), _value(memory)), requested, non_zero,
                     len(placed), allowed_pods)


def node_state(node_obj: Mapping[str, Any], pods: Iterable[Mapping[str, Any]] = ()) -> NodeState:
    """A served Node and the pods the scheduler counts on it: bound to it and not Succeeded or Failed."""
    try:
        name = node_obj["metadata"]["name"]
    except (KeyError, TypeError) as exc:
        raise PodlabError("This is not a Node object: it has no metadata.name.",
                          hint="Pass the Node as the API serves it, e.g. lab.get('node', name).") from exc
    allocatable = ((node_obj.get("status") or {}).get("allocatable")) or {}
    # scheduler.go, newPodInformer: `status.phase!=Succeeded,status.phase!=Failed`; assignedPod:
    # `len(pod.Spec.NodeName) != 0`.
    placed = [pod_requests(p) for p in pods
              if (p.get("spec") or {}).get("nodeName") == name
              and (p.get("status") or {}).get("phase") not in _TERMINAL_PHASES]
    allowed = allocatable.get("pods")
    return node(name, allocatable.get("cpu", 0), allocatable.get("memory", 0), placed,
                _value(allowed) if allowed is not None else None)


# ---------------------------------------------------------------- today's plugins

def insufficient(pod: PodRequests, node_: NodeState) -> tuple[str, ...]:
    """Why NodeResourcesFit's filter rejects the node (fit.go fitsRequest's reasons); empty if the pod fits."""
    reasons = []
    # fit.go: `if len(nodeInfo.GetPods())+1 > allowedPodNumber` -> "Too many pods"
    if node_.allowed_pods is not None and node_.pods + 1 > node_.allowed_pods:
        reasons.append("Too many pods")
    req, free = pod.requested, node_.allocatable
    # `if podRequest.MilliCPU > 0 && deltaMilliCPU >
    #     (nodeInfo.GetAllocatable().GetMilliCPU()-nodeInfo.GetRequested().GetMilliCPU())` (memory alike)
    if req.milli_cpu > 0 and req.milli_cpu > free.milli_cpu - node_.requested.milli_cpu:
        reasons.append("Insufficient cpu")
    if req.memory > 0 and req.memory > free.memory - node_.requested.memory:
        reasons.append("Insufficient memory")
    return tuple(reasons)


def _least_requested_score(requested: int, capacity: int) -> int:
    # least_allocated.go, leastRequestedScore:
    #   if capacity == 0 { return 0 }
    #   if requested > capacity { return 0 }
    #   return ((capacity - requested) * fwk.MaxNodeScore) / capacity
    if capacity == 0 or requested > capacity:
        return 0
    return _go_div((capacity - requested) * MAX_NODE_SCORE, capacity)


def fit_score(pod: PodRequests, node_: NodeState) -> int:
    """NodeResourcesFit's score (LeastAllocated, cpu and memory at weight 1), 0-100, before its weight."""
    # resource_allocation.go: LeastAllocated is built without useRequested, so the node's side is
    # `nodeInfo.GetNonZeroRequested()` and the pod's side gets the non-zero defaults
    # (calculatePodResourceRequest: `if !r.useRequested { opts.NonMissingContainerRequests = ...}`);
    # calculateNodeAllocatableRequest: `requested[i] = allocated[i] + podRequests[i]`.
    pairs = [(node_.non_zero_requested.milli_cpu + pod.non_zero.milli_cpu, node_.allocatable.milli_cpu),
             (node_.non_zero_requested.memory + pod.non_zero.memory, node_.allocatable.memory)]
    # least_allocated.go, leastResourceScorer: skip `if allocable[i] == 0`, then
    # `nodeScore += resourceScore * weight; weightSum += weight` ... `return nodeScore / weightSum`
    node_score = weight_sum = 0
    for requested, allocatable in pairs:
        if allocatable == 0:
            continue
        weight = 1
        node_score += _least_requested_score(requested, allocatable) * weight
        weight_sum += weight
    return 0 if weight_sum == 0 else _go_div(node_score, weight_sum)


def _balanced_resource_score(requested: list[int], allocatable: list[int]) -> int:
    # balanced_allocation.go, balancedResourceScore
    fractions = []
    total = 0.0
    for req, alloc in zip(requested, allocatable):
        if alloc == 0:
            continue
        fraction = float(req) / float(alloc)  # `fraction := float64(requested[i]) / float64(allocatable[i])`
        if fraction > 1:
            fraction = 1.0
        total += fraction
        fractions.append(fraction)
    std = 0.0
    if len(fractions) == 2:
        # `std = math.Abs((resourceToFractions[0] - resourceToFractions[1]) / 2)`
        std = math.fabs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = total / float(len(fractions))
        std = math.sqrt(sum((f - mean) * (f - mean) for f in fractions) / float(len(fractions)))
    return int((1 - std) * float(MAX_NODE_SCORE))  # `return int64((1 - std) * float64(fwk.MaxNodeScore))`


def balanced_score(pod: PodRequests, node_: NodeState) -> int | None:
    """NodeResourcesBalancedAllocation's score, 50-100, before its weight; None when it skips a best-effort pod."""
    # balanced_allocation.go, PreScore: `if ba.isBestEffortPod(podRequests) { return fwk.NewStatus(fwk.Skip) }`
    # with podRequests as written (NewBalancedAllocation sets `useRequested: true`, so no defaults).
    if pod.requested.milli_cpu == 0 and pod.requested.memory == 0:
        return None
    allocatable = [node_.allocatable.milli_cpu, node_.allocatable.memory]
    # calculateResourceAllocatableRequest: `if r.useRequested { requested = nodeInfo.GetRequested() }`;
    # a resource the node has none of is left out (`if nodeAllocatable == 0 { continue }`).
    allocated = [node_.requested.milli_cpu if allocatable[0] else 0, node_.requested.memory if allocatable[1] else 0]
    with_pod = [allocated[0] + (pod.requested.milli_cpu if allocatable[0] else 0),
                allocated[1] + (pod.requested.memory if allocatable[1] else 0)]
    score_with_pod = _balanced_resource_score(with_pod, allocatable)
    score_without_pod = _balanced_resource_score(allocated, allocatable)
    # balancedResourceScorer: `return fwk.MaxNodeScore/2 + (fwk.MaxNodeScore/2+scoreWithPod-scoreWithoutPod)/2`
    half = MAX_NODE_SCORE // 2
    return half + _go_div(half + score_with_pod - score_without_pod, 2)


# ---------------------------------------------------------------- the source's 0-10 priorities

def _old_calculate_score(requested: int, capacity: int) -> int:
    # old priorities.go, calculateScore:
    #   if capacity == 0 { return 0 }
    #   if requested > capacity { ... return 0 }
    #   return int(((capacity - requested) * 10) / capacity)
    if capacity == 0 or requested > capacity:
        return 0
    return _go_div((capacity - requested) * OLD_MAX_PRIORITY, capacity)


def _old_fraction(requested: int, capacity: int) -> float:
    # old priorities.go, fractionOfCapacity: `if capacity == 0 { return 1 }`
    return 1.0 if capacity == 0 else float(requested) / float(capacity)


def old_scores(pod: PodRequests, node_: NodeState) -> tuple[int, int]:
    """The source's LeastRequestedPriority and BalancedResourceAllocation (0-10 each) for this pod on this node."""
    # Both old priorities add the pod's non-zero requests to the node's non-zero total
    # (`totalMilliCPU := nodeInfo.NonZeroRequest().MilliCPU` ... `priorityutil.GetNonzeroRequests`).
    # The old code summed the pod's regular containers only; this uses today's sum (init containers'
    # maximum, sidecars, overhead), which differs only for pods that have those.
    cpu = node_.non_zero_requested.milli_cpu + pod.non_zero.milli_cpu
    memory = node_.non_zero_requested.memory + pod.non_zero.memory
    cap_cpu, cap_memory = node_.allocatable.milli_cpu, node_.allocatable.memory
    # `Score: int((cpuScore + memoryScore) / 2)`
    least = _go_div(_old_calculate_score(cpu, cap_cpu) + _old_calculate_score(memory, cap_memory), 2)
    cpu_fraction, memory_fraction = _old_fraction(cpu, cap_cpu), _old_fraction(memory, cap_memory)
    if cpu_fraction >= 1 or memory_fraction >= 1:  # "if requested >= capacity, ... never be preferrred"
        balanced = 0
    else:
        balanced = int(10 - math.fabs(cpu_fraction - memory_fraction) * 10)  # `score = int(10 - diff*10)`
    return least, balanced


# ---------------------------------------------------------------- the choice

def _top(values: Mapping[str, int]) -> tuple[str, ...]:
    if not values:
        return ()
    best = max(values.values())
    return tuple(sorted(n for n, v in values.items() if v == best))


def expected_choice(pod: PodRequests, nodes: Iterable[NodeState]) -> Choice:
    """Filter the nodes by resources, score the feasible ones today and the old way, and name the top scorers."""
    nodes = list(nodes)
    names = [n.name for n in nodes]
    if len(set(names)) != len(names):
        raise PodlabError(f"Two nodes share a name: {names}.", hint="Give every node its own name.")
    filtered = tuple((n.name, r) for n in nodes if (r := insufficient(pod, n)))
    feasible = [n for n in nodes if not insufficient(pod, n)]
    scores = []
    for n in feasible:
        fit, balanced = fit_score(pod, n), balanced_score(pod, n)
        # framework.go: `weightedScore := score * int64(weights[i])`; `totalScore += weightedScore`.
        # A plugin skipped in PreScore takes no part (nonSkippedScorePlugins).
        total = fit * DEFAULT_SCORE_WEIGHTS[FIT]
        if balanced is not None:
            total += balanced * DEFAULT_SCORE_WEIGHTS[BALANCED]
        least, old_balanced = old_scores(pod, n)
        old_total = (least * OLD_WEIGHTS["LeastRequestedPriority"]
                     + old_balanced * OLD_WEIGHTS["BalancedResourceAllocation"])
        scores.append(NodeScores(n.name, fit, balanced, total, least, old_balanced, old_total))
    # schedule_one.go: "When only one node after predicate, just use it." -- no scoring at all.
    scored = len(feasible) > 1
    return Choice(scores=tuple(scores), filtered=filtered,
                  best=_top({s.node: s.total for s in scores}),
                  old_best=_top({s.node: s.old_total for s in scores}), scored=scored)


def format_choice(choice: Choice) -> str:
    """The choice as a few stable lines: each node's scores today and in the source, then the verdict."""
    width = max([4, *(len(s.node) for s in choice.scores), *(len(name) for name, _ in choice.filtered)])
    lines = [f"{'node':<{width}} {'Fit':>4} {'Balanced':>8} {'total':>5}   "
             f"{'old LeastRequested':>18} {'old Balanced':>12} {'old total':>9}"]
    for s in choice.scores:
        balanced = "skip" if s.balanced is None else str(s.balanced)
        lines.append(f"{s.node:<{width}} {s.fit:>4} {balanced:>8} {s.total:>5}   "
                     f"{s.old_least_requested:>18} {s.old_balanced:>12} {s.old_total:>9}")
    for name, reasons in choice.filtered:
        lines.append(f"{name:<{width}} filtered out: {', '.join(reasons)}")
    if not choice.scores:
        lines.append("expected: no node fits (the pod stays Pending, FailedScheduling)")
    elif not choice.scored:
        lines.append(f"expected: {choice.best[0]} (the only feasible node: the scheduler does not score)")
    elif choice.tie:
        lines.append(f"expected: a tie between {', '.join(choice.best)} "
                     "(the scheduler's pick among them cannot be predicted)")
    else:
        lines.append(f"expected: {choice.winner}")
    if choice.scores and choice.scored:
        old = ("a tie between " + ", ".join(choice.old_best)) if choice.old_tie else choice.old_best[0]
        lines.append(f"the source's two priorities would pick: {old}")
    return "\n".join(lines)


# ---------------------------------------------------------------- why a pod stays Pending

# framework/types.go: `NoNodeAvailableMsg = "0/%v nodes are available"`; FitError.Error() formats
# "0/X nodes are available: <PreFilterMsg>. <FilterMsg>. <PostFilterMsg>." where the filter part is
# the sorted "<count> <reason>" pairs joined by ", ".
_FIT_ERROR = re.compile(r"^0/(?P<nodes>\d+) nodes are available: (?P<filters>.*?)\.(?: (?P<post>preemption: .*))?$",
                        re.DOTALL)
_COUNTED = re.compile(r"^(?P<count>\d+) (?P<reason>.+)$")


def unschedulable_reasons(message: str) -> dict[str, int]:
    """A FailedScheduling message's filter reasons, each with the number of nodes that gave it."""
    match = _FIT_ERROR.match(message.strip())
    if not match:
        raise PodlabError(f"This is not the scheduler's 'nodes are available' message: {message!r}.",
                          hint="Pass the message of a FailedScheduling event from the scheduler "
                               "(lab.wait_for_event(pod, 'FailedScheduling').message).")
    reasons: dict[str, int] = {}
    for part in match["filters"].split(", "):
        counted = _COUNTED.match(part.strip())
        if counted:  # a PreFilter message has no count: it stands for every node
            reasons[counted["reason"]] = reasons.get(counted["reason"], 0) + int(counted["count"])
        else:
            reasons[part.strip()] = int(match["nodes"])
    return reasons


# ---------------------------------------------------------------- a second, verbose scheduler per session

# The container of the second scheduler's pod, and where its configuration is mounted.
SCHEDULER_CONTAINER = "kube-scheduler"
SCHEDULER_CONFIG_KEY = "config.yaml"


def verbose_scheduler_name(session: str) -> str:
    """The scheduler name of the session's second scheduler's one profile."""
    return f"podlab-verbose-{session}"


def for_verbose_scheduler(lab: Any, manifest: Any, *, image: str | None = None) -> list[dict[str, Any]]:
    """The manifest's objects for this session's second scheduler: its image, profile name, bindings; pods that use it."""
    import copy

    import yaml

    from .manifests import load_manifests

    name = verbose_scheduler_name(lab.session)
    objects = copy.deepcopy(load_manifests(manifest))
    for obj in objects:
        kind, meta = obj.get("kind"), obj["metadata"]
        if kind == "ConfigMap" and SCHEDULER_CONFIG_KEY in (obj.get("data") or {}):
            config = yaml.safe_load(obj["data"][SCHEDULER_CONFIG_KEY])
            if config.get("kind") != "KubeSchedulerConfiguration" or len(config.get("profiles") or []) != 1:
                raise PodlabError(f"ConfigMap {meta['name']!r} does not hold a KubeSchedulerConfiguration with one profile.",
                                  hint="Give the second scheduler exactly one profile: its schedulerName is set per session.")
            config["profiles"][0]["schedulerName"] = name
            obj["data"][SCHEDULER_CONFIG_KEY] = yaml.safe_dump(config, sort_keys=False)
        elif kind in ("ClusterRoleBinding", "RoleBinding"):
            if kind == "ClusterRoleBinding":  # cluster-scoped: one per session
                meta["name"] = f"{meta['name']}-{lab.session}"
            for subject in obj.get("subjects") or []:
                if subject.get("kind") == "ServiceAccount":
                    subject["namespace"] = lab.namespace
        elif kind == "Pod":
            containers = obj["spec"].get("containers") or []
            runs_scheduler = [c for c in containers if c.get("name") == SCHEDULER_CONTAINER]
            if runs_scheduler:
                if not image:
                    raise PodlabError("The second scheduler's pod needs the cluster's kube-scheduler image.",
                                      hint="Pass image= the image of the running kube-scheduler pod in kube-system.")
                for container in runs_scheduler:
                    container["image"] = image
            else:
                obj["spec"]["schedulerName"] = name
    return objects


# klog's text format of schedule_one.go's
# `loggerVTen.Info("Plugin scored node for pod", "pod", klog.KObj(pod), "plugin", ..., "node", ..., "score", ...)`
_PLUGIN_SCORED = re.compile(r'"Plugin scored node for pod" pod="(?P<pod>[^"]+)" plugin="(?P<plugin>[^"]+)" '
                            r'node="(?P<node>[^"]+)" score=(?P<score>-?\d+)')


def plugin_scores(log: str, pod: str) -> dict[str, dict[str, int]]:
    """Each plugin's weighted score per node for the pod ("namespace/name"), from a scheduler's log at --v=10."""
    scores: dict[str, dict[str, int]] = {}
    for match in _PLUGIN_SCORED.finditer(log):
        if match["pod"] == pod:
            scores.setdefault(match["plugin"], {})[match["node"]] = int(match["score"])
    return scores


def component_config(log: str) -> dict[str, Any]:
    """The KubeSchedulerConfiguration a kube-scheduler logged at start ("Using component config", --v=2 or more)."""
    import yaml

    # klog writes a multi-line value as `config=<` then each line tab-indented, closed by ` >`.
    match = re.search(r'"Using component config" config=<\n(?P<body>(?:\t.*\n)*) >', log)
    if not match:
        raise PodlabError("The log holds no 'Using component config' entry.",
                          hint="Start kube-scheduler with --v=2 or more and pass its log from the start.")
    return yaml.safe_load("\n".join(line[1:] for line in match["body"].splitlines()))
