"""podlab.scheduling against upstream's own score tables (k8s.io/kubernetes@v1.37.2) and the source's formulas.

The upstream cases are taken from pkg/scheduler/framework/plugins/noderesources/
least_allocated_test.go (TestLeastAllocatedScoringStrategy) and balanced_allocation_test.go
(TestNodeResourcesBalancedAllocation), cited by their `name:` fields, with their nodes, pods
and expected scores as written there. Their helpers, rewritten as dicts:

- `st.MakePod().Req(m)` appends one container whose requests are `m` (testing/wrappers.go);
  `st.MakePod().Obj()` is a pod with no container at all, so no requests and no defaults;
- `st.MakeNode().Capacity(m)` sets capacity and allocatable to `m` parsed as quantities
  (so "4000" cpu is 4000 cores); `makeNode(name, milliCPU, memory, nil)` (util_test.go) sets
  `resource.NewMilliQuantity(milliCPU, ...)` and `resource.NewQuantity(memory, ...)`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from podlab.errors import PodlabError
from podlab.scheduling import (
    DEFAULT_SCORE_WEIGHTS, MAX_NODE_SCORE, Choice, NodeState, PodRequests, Resources, balanced_score,
    expected_choice, fit_score, format_choice, insufficient, node, node_state, old_scores,
    pod_requests, requests,
)

NO_CONTAINERS = PodRequests(Resources(), Resources())  # st.MakePod().Obj(): no container, nothing requested


def pod(*containers: dict[str, str], node_name: str | None = None, phase: str | None = None) -> dict:
    """st.MakePod().Req(c1).Req(c2)...: one container per requests map."""
    obj: dict = {"spec": {"containers": [{"name": f"con{i}", "resources": {"requests": c}}
                                         for i, c in enumerate(containers)]}}
    if node_name:
        obj["spec"]["nodeName"] = node_name
    if phase:
        obj["status"] = {"phase": phase}
    return obj


def served_node(name: str, cpu: str, memory: str, pods: str | None = None) -> dict:
    allocatable = {"cpu": cpu, "memory": memory, **({"pods": pods} if pods else {})}
    return {"metadata": {"name": name}, "status": {"capacity": dict(allocatable), "allocatable": allocatable}}


def on(name: str, cpu: str, memory: str, *pods: dict) -> NodeState:
    """A node of this size with these pods bound to it (they get spec.nodeName = name)."""
    bound = [{**p, "spec": {**p["spec"], "nodeName": name}} for p in pods]
    return node_state(served_node(name, cpu, memory), bound)


def capacity(name: str, cpu: str, memory: str, *pods: dict) -> NodeState:
    """st.MakeNode().Name(name).Capacity({"cpu": cpu, "memory": memory})."""
    return on(name, cpu, memory, *pods)


def make_node(name: str, milli_cpu: int, memory: int, *pods: dict) -> NodeState:
    """makeNode(name, milliCPU, memory, nil) from util_test.go."""
    return on(name, f"{milli_cpu}m", str(memory), *pods)


# ---------------------------------------------------------------- NodeResourcesFit, LeastAllocated

REQ_1_2 = ({"cpu": "1000", "memory": "2000"}, {"cpu": "2000", "memory": "3000"})  # two containers


@pytest.mark.parametrize("case, pod_req, nodes, expected", [
    ("nothing scheduled, nothing requested", NO_CONTAINERS,
     [capacity("node1", "4000", "10000"), capacity("node2", "4000", "10000")], [MAX_NODE_SCORE, MAX_NODE_SCORE]),
    ("nothing scheduled, resources requested, differently sized nodes", pod_requests(pod(*REQ_1_2)),
     [capacity("node1", "4000", "10000"), capacity("node2", "6000", "10000")], [37, 50]),
    ("no resources requested, pods scheduled with resources", NO_CONTAINERS,
     [capacity("node1", "10000", "20000", pod({"cpu": "3000", "memory": "0"}), pod({"cpu": "3000", "memory": "0"})),
      capacity("node2", "10000", "20000", pod({"cpu": "3000", "memory": "0"}), pod({"cpu": "3000", "memory": "5000"}))],
     [70, 57]),
    ("resources requested, pods scheduled with resources", pod_requests(pod(*REQ_1_2)),
     [capacity("node1", "10000", "20000", pod({"cpu": "3000", "memory": "0"})),
      capacity("node2", "10000", "20000", pod({"cpu": "3000", "memory": "5000"}))], [57, 45]),
    ("resources requested, pods scheduled with resources, differently sized nodes", pod_requests(pod(*REQ_1_2)),
     [capacity("node1", "10000", "20000", pod({"cpu": "3000", "memory": "0"})),
      capacity("node2", "10000", "50000", pod({"cpu": "3000", "memory": "5000"}))], [57, 60]),
    ("requested resources exceed node capacity", pod_requests(pod({"cpu": "3000", "memory": "0"})),
     [capacity("node1", "4000", "10000", pod({"cpu": "3000", "memory": "0"})),
      capacity("node2", "4000", "10000", pod({"cpu": "3000", "memory": "5000"}))], [50, 25]),
    ("zero node resources, pods scheduled with resources", NO_CONTAINERS,
     [on("node1", "0", "0", pod({"cpu": "3000", "memory": "0"})),
      on("node2", "0", "0", pod({"cpu": "3000", "memory": "5000"}))], [0, 0]),
])
def test_least_allocated_matches_upstream_table(case, pod_req, nodes, expected):
    """TestLeastAllocatedScoringStrategy, the cases with defaultResources (cpu and memory, weight 1)."""
    assert [fit_score(pod_req, n) for n in nodes] == expected, case


def test_least_allocated_gives_a_container_without_requests_the_non_zero_defaults():
    """A real container with no requests counts as 100m and 200 MiB for scoring (pkg/scheduler/util/pod_resources.go)."""
    best_effort = requests()
    assert best_effort.requested == Resources(0, 0)
    assert best_effort.non_zero == Resources(100, 200 * 1024 * 1024)
    # 1 CPU, 1000 MiB node: cpu (1000-100)*100/1000 = 90, memory (1000-200)*100/1000 = 80 -> (90+80)/2 = 85
    assert fit_score(best_effort, node("n", "1", "1000Mi")) == 85
    # an explicit "0" is not missing: no default is added for it
    assert requests(cpu="0", memory="0").non_zero == Resources(0, 0)


# ---------------------------------------------------------------- NodeResourcesBalancedAllocation

def cpu_and_memory(cpu: str, memory: str) -> dict[str, str]:
    return {"cpu": cpu, "memory": memory}


def cpu_only(cpu: str) -> dict[str, str]:
    return {"cpu": cpu}


BAL_POD = pod(cpu_and_memory("1000m", "2000"), cpu_and_memory("2000m", "3000"))
CPU_ONLY_PAIR = pod(cpu_only("1000m"), cpu_only("2000m"))


@pytest.mark.parametrize("case, pod_obj, nodes, expected", [
    ("nothing scheduled, resources requested, differently sized nodes", BAL_POD,
     [make_node("node1", 4000, 10000), make_node("node2", 6000, 10000)], [68, 75]),
    ("resources requested, pods scheduled with resources", BAL_POD,
     [make_node("node1", 10000, 20000, CPU_ONLY_PAIR), make_node("node2", 10000, 20000, BAL_POD)], [73, 74]),
    ("resources requested, pods scheduled with resources, differently sized nodes", BAL_POD,
     [make_node("node1", 10000, 20000, CPU_ONLY_PAIR), make_node("node2", 10000, 50000, BAL_POD)], [73, 70]),
    ("resources requested, pods scheduled with resources, nodes to reach min/max score",
     pod({"memory": "2000"}, {"memory": "3000"}),
     [make_node("node1", 3000, 5000, CPU_ONLY_PAIR), make_node("node2", 3000, 5000)], [100, 50]),
    ("requested resources at node capacity", CPU_ONLY_PAIR,
     [make_node("node1", 6000, 10000, CPU_ONLY_PAIR), make_node("node2", 6000, 10000, BAL_POD)], [62, 62]),
    # the case's node1 also has 8 GPUs, which the pod does not request and scoring leaves out
    ("scalar resource is not included in the score computation if pod doesn't request the scalar resource", BAL_POD,
     [make_node("node1", 3500, 40000), make_node("node2", 3500, 40000)], [56, 56]),
])
def test_balanced_allocation_matches_upstream_table(case, pod_obj, nodes, expected):
    """TestNodeResourcesBalancedAllocation, the cases on cpu and memory only."""
    assert [balanced_score(pod_requests(pod_obj), n) for n in nodes] == expected, case


def test_balanced_allocation_skips_a_best_effort_pod():
    """'nothing scheduled, nothing requested, skip in PreScore': PreScore returns Skip, no score at all."""
    assert balanced_score(NO_CONTAINERS, make_node("node1", 4000, 10000)) is None
    # also a real container without requests: BalancedAllocation reads requests as written (useRequested)
    assert balanced_score(requests(), make_node("node1", 4000, 10000)) is None


def test_balanced_allocation_rewards_improving_the_balance():
    """The v1.37.2 scorer: 50 + (50 + withPod - withoutPod) / 2, so an unchanged balance gives 75."""
    same_shape = node("n", "2", "4Gi")
    assert balanced_score(requests("500m", "1Gi"), same_shape) == 75  # 25 % / 25 %: 100 before and after
    # cpu-heavy node (8 CPU, 4 Gi) already half full on memory, cpu idle: a cpu-only pod evens it out
    lopsided = node("n", "8", "4Gi", [requests("0", "2Gi")])
    # without: fractions 0 and 0.5 -> std 0.25 -> 75; with 4 CPU: 0.5 and 0.5 -> 100; 50 + (50+100-75)/2 = 87
    assert balanced_score(requests("4", "0"), lopsided) == 87


# ---------------------------------------------------------------- the filter and the choice

def test_insufficient_names_fit_filters_reasons():
    full = node("n", "1", "1Gi", [requests("800m", "512Mi")], allowed_pods=2)
    assert insufficient(requests("300m", "256Mi"), full) == ("Insufficient cpu",)
    assert insufficient(requests("200m", "600Mi"), full) == ("Insufficient memory",)
    assert insufficient(requests("200m", "512Mi"), full) == ()
    crowded = node("n", "8", "8Gi", [requests(), requests()], allowed_pods=2)
    assert insufficient(requests(), crowded) == ("Too many pods",)


def test_the_chapters_fake_nodes_as_shipped():
    """book/07-nodes-and-scheduling/fake-node-small.yaml (2 CPU, 4Gi) and fake-node-large.yaml (8 CPU, 16Gi)."""
    small, large = node("small", "2", "4Gi", allowed_pods=10), node("large", "8", "16Gi", allowed_pods=20)
    choice = expected_choice(requests("500m", "1Gi"), [small, large])
    by_node = {s.node: s for s in choice.scores}
    assert (by_node["small"].fit, by_node["small"].balanced) == (75, 75)
    assert (by_node["large"].fit, by_node["large"].balanced) == (93, 75)
    assert choice.winner == "large" and not choice.tie and choice.scored
    assert (by_node["small"].old_least_requested, by_node["large"].old_least_requested) == (7, 9)


def test_a_tie_is_reported_and_never_picked():
    twins = [node("a", "4", "8Gi"), node("b", "4", "8Gi")]
    choice = expected_choice(requests("1", "2Gi"), twins)
    assert choice.tie and choice.best == ("a", "b") and choice.winner is None
    assert "a tie between a, b" in format_choice(choice)


def test_one_feasible_node_is_taken_without_scoring_and_none_leaves_the_pod_pending():
    small, large = node("small", "2", "4Gi"), node("large", "8", "16Gi")
    choice = expected_choice(requests("4", "1Gi"), [small, large])
    assert choice.winner == "large" and not choice.scored
    assert choice.filtered == (("small", ("Insufficient cpu",)),)
    assert "the only feasible node" in format_choice(choice)
    nowhere = expected_choice(requests("16", "1Gi"), [small, large])
    assert nowhere.winner is None and nowhere.best == () and not nowhere.tie
    assert "no node fits" in format_choice(nowhere)


def test_today_and_the_source_can_disagree():
    """A best-effort pod: the old 0-10 scale rounds both nodes to the same score, today's 0-100 does not."""
    choice = expected_choice(requests(), [node("small", "2", "4Gi"), node("large", "8", "16Gi")])
    assert choice.winner == "large"
    assert choice.old_tie and choice.old_best == ("large", "small")


def test_the_default_weights_of_the_two_resource_plugins():
    """apis/config/v1/default_plugins.go: NodeResourcesFit and NodeResourcesBalancedAllocation weigh 1."""
    assert DEFAULT_SCORE_WEIGHTS["NodeResourcesFit"] == 1
    assert DEFAULT_SCORE_WEIGHTS["NodeResourcesBalancedAllocation"] == 1
    assert DEFAULT_SCORE_WEIGHTS["TaintToleration"] == 3
    s = expected_choice(requests("1", "1Gi"), [node("a", "4", "4Gi"), node("b", "2", "8Gi")]).scores
    assert all(x.total == x.fit + x.balanced for x in s)


# ---------------------------------------------------------------- the source's 0-10 formulas, worked by hand

def test_old_formulas_on_a_same_shape_node():
    # 2 CPU / 4 Gi node, pod 500m / 1 Gi:
    # LeastRequested: cpu int((2000-500)*10/2000) = int(7.5) = 7, memory int((4-1)*10/4) = 7, (7+7)/2 = 7
    # Balanced: 500/2000 = 0.25 and 1/4 = 0.25 -> 10 - 0*10 = 10
    assert old_scores(requests("500m", "1Gi"), node("n", "2", "4Gi")) == (7, 10)


def test_old_formulas_on_a_lopsided_node():
    # 8 CPU / 4 Gi node, pod 1 CPU / 2 Gi:
    # LeastRequested: cpu int(7000*10/8000) = 8, memory int(2*10/4) = 5, int((8+5)/2) = 6
    # Balanced: 0.125 and 0.5 -> int(10 - 0.375*10) = int(6.25) = 6
    assert old_scores(requests("1", "2Gi"), node("n", "8", "4Gi")) == (6, 6)


def test_old_formulas_count_existing_pods_and_zero_a_full_node():
    # 4 CPU / 8 Gi with 2 CPU / 2 Gi already requested; pod 1 CPU / 2 Gi -> totals 3 CPU, 4 Gi
    # LeastRequested: cpu int(1000*10/4000) = 2, memory int(4*10/8) = 5 -> int(7/2) = 3
    # Balanced: 0.75 and 0.5 -> int(10 - 2.5) = 7
    busy = node("n", "4", "8Gi", [requests("2", "2Gi")])
    assert old_scores(requests("1", "2Gi"), busy) == (3, 7)
    # a node the pod fills completely: fraction >= 1 -> Balanced 0; LeastRequested cpu 0
    assert old_scores(requests("2", "1Gi"), node("n", "2", "4Gi")) == (3, 0)


# ---------------------------------------------------------------- reading pods and nodes

def test_pod_requests_follow_the_api_and_the_sidecar_rule():
    # requests default to limits (SetDefaults_Pod), per resource
    limited = {"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                                                                    "requests": {"cpu": "250m"}}}]}}
    assert pod_requests(limited).requested == Resources(250, 1 << 30)
    # init containers count by their maximum; a sidecar (restartPolicy Always) adds to the app's sum
    spec = {"containers": [{"name": "app", "resources": {"requests": {"cpu": "500m", "memory": "100Mi"}}}],
            "initContainers": [
                {"name": "setup", "resources": {"requests": {"cpu": "2", "memory": "10Mi"}}},
                {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "50Mi"}}},
            ]}
    # cpu: max(500m + 100m, 2) = 2000m; memory: max(100Mi + 50Mi, 10Mi) = 150Mi
    assert pod_requests({"spec": spec}).requested == Resources(2000, 150 << 20)
    # overhead is added; millicores round up like Quantity.MilliValue()
    assert pod_requests({"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "0.1005"}}}],
                                  "overhead": {"cpu": "50m"}}}).requested == Resources(151, 0)


def test_node_state_counts_only_the_pods_the_scheduler_caches():
    pods = [pod({"cpu": "1", "memory": "1Gi"}, node_name="n1"),
            pod({"cpu": "1", "memory": "1Gi"}, node_name="n1", phase="Succeeded"),
            pod({"cpu": "1", "memory": "1Gi"}, node_name="n2"),
            pod({"cpu": "1", "memory": "1Gi"})]  # pending, not bound
    state = node_state(served_node("n1", "4", "8Gi", pods="110"), pods)
    assert state.requested == Resources(1000, 1 << 30) and state.pods == 1 and state.allowed_pods == 110
    assert state.allocatable == Resources(4000, 8 << 30)


def test_bad_input_says_what_to_do():
    with pytest.raises(PodlabError, match="not a Kubernetes quantity"):
        requests(cpu="two")
    with pytest.raises(PodlabError, match="not a Pod with containers"):
        pod_requests({"kind": "Pod"})
    with pytest.raises(PodlabError, match="not a Node object"):
        node_state({"status": {}})
    with pytest.raises(PodlabError, match="share a name"):
        expected_choice(requests(), [node("a", "1", "1Gi"), node("a", "2", "2Gi")])


# ---------------------------------------------------------------- chapter 7's manifests, as files

CHAPTER = Path(__file__).resolve().parents[2] / "book" / "07-nodes-and-scheduling"


def chapter_choice(pod_file: str, *placed: str) -> Choice:
    """The expected choice for a chapter pod among the fake nodes its required affinity admits.

    Nodes are read from the fake-node-*.yaml files (their status.allocatable, as KWOK serves
    them); `placed` are pod files already bound to their node (by their nodeSelector).
    """
    from podlab.manifests import load_manifests

    nodes = {}
    for path in sorted(CHAPTER.glob("fake-node-*.yaml")):
        [obj] = load_manifests(path)
        nodes[obj["metadata"]["labels"]["podlab.dev/fake-node"]] = obj
    bound = []
    for name in placed:
        [p] = load_manifests(CHAPTER / name)
        label = p["spec"]["nodeSelector"]["podlab.dev/fake-node"]
        bound.append({**p, "spec": {**p["spec"], "nodeName": nodes[label]["metadata"]["name"]}})
    [pod_obj] = load_manifests(CHAPTER / pod_file)
    [term] = pod_obj["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"]
    [expr] = term["matchExpressions"]
    assert expr["key"] == "podlab.dev/fake-node" and expr["operator"] == "In"
    candidates = [node_state(nodes[label], bound) for label in expr["values"]]
    return expected_choice(pod_requests(pod_obj), candidates)


def test_chapter_small_or_large():
    choice = chapter_choice("choose-small-or-large.yaml")
    assert choice.winner == "kwok-large" and choice.old_best == ("kwok-large",)


def test_chapter_small_or_cpu_heavy_today_and_the_source_disagree():
    choice = chapter_choice("choose-small-or-cpu-heavy.yaml")
    assert choice.winner == "kwok-cpu-heavy" and choice.old_best == ("kwok-small",)


def test_chapter_medium_nodes_tie_when_empty_and_balance_decides_when_loaded():
    empty = chapter_choice("choose-medium.yaml")
    assert empty.tie and empty.best == ("kwok-medium-a", "kwok-medium-b") and empty.winner is None
    loaded = chapter_choice("choose-medium.yaml", "filler-cpu-on-medium-a.yaml", "filler-balanced-on-medium-b.yaml")
    by_node = {s.node: s for s in loaded.scores}
    assert by_node["kwok-medium-a"].fit < by_node["kwok-medium-b"].fit  # Fit alone would pick medium-b
    assert loaded.winner == "kwok-medium-a" and loaded.old_best == ("kwok-medium-b",)


def test_chapter_best_effort_pod():
    choice = chapter_choice("choose-best-effort.yaml")
    assert all(s.balanced is None for s in choice.scores)
    assert choice.winner == "kwok-large" and choice.old_tie


def test_objects_as_the_lab_reads_them_and_pod_level_requests():
    """lab.get returns KubeObject (a dict); a pod-level request replaces the containers' sum for that resource."""
    from podlab.objects import KubeObject

    served = KubeObject({"kind": "Pod", "spec": {"nodeName": "n1", "resources": {"requests": {"cpu": "2"}},
                                                 "containers": [{"name": "a", "resources": {"requests": {
                                                     "cpu": "500m", "memory": "1Gi"}}}]}})
    assert pod_requests(served).requested == Resources(2000, 1 << 30)
    state = node_state(KubeObject({"kind": "Node", "metadata": {"name": "n1"},
                                   "status": {"allocatable": {"cpu": "4", "memory": "8Gi"}}}), [served])
    assert state.requested == Resources(2000, 1 << 30) and state.allowed_pods is None


# ---------------------------------------------------------------- FailedScheduling messages

def test_unschedulable_reasons_as_fit_error_formats_them():
    """framework/types.go, FitError.Error(): sorted "<count> <reason>" pairs, then PostFilter's message."""
    from podlab.scheduling import unschedulable_reasons

    message = ("0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
               "3 node(s) had untolerated taint(s). preemption: 0/4 nodes are available: "
               "4 Preemption is not helpful for scheduling.")
    assert unschedulable_reasons(message) == {"node(s) didn't match Pod's node affinity/selector": 1,
                                              "node(s) had untolerated taint(s)": 3}
    assert unschedulable_reasons("0/3 nodes are available: 3 Insufficient cpu.") == {"Insufficient cpu": 3}
    # a PreFilter rejection carries no count: it holds for every node
    assert unschedulable_reasons("0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.") == {
        "pod has unbound immediate PersistentVolumeClaims": 2}


def test_unschedulable_reasons_rejects_other_text():
    from podlab.scheduling import unschedulable_reasons

    with pytest.raises(PodlabError, match="FailedScheduling"):
        unschedulable_reasons("Successfully assigned ns/pod to node")


# ---------------------------------------------------------------- the second, verbose scheduler

class _Lab:
    session = "x7k2m"
    namespace = "podlab-ch07-x7k2m"


def test_for_verbose_scheduler_fills_in_the_session_and_the_image():
    import yaml

    from podlab.scheduling import for_verbose_scheduler

    objects = for_verbose_scheduler(_Lab(), CHAPTER / "verbose-scheduler.yaml", image="registry.k8s.io/kube-scheduler:v9.9.9")
    by_kind: dict = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    [config_map] = by_kind["ConfigMap"]
    config = yaml.safe_load(config_map["data"]["config.yaml"])
    assert config["profiles"] == [{"schedulerName": "podlab-verbose-x7k2m"}]
    assert config["leaderElection"] == {"leaderElect": False}
    assert config["apiVersion"] == "kubescheduler.config.k8s.io/v1"
    bindings = by_kind["ClusterRoleBinding"]
    assert sorted(b["roleRef"]["name"] for b in bindings) == ["system:kube-scheduler", "system:volume-scheduler"]
    assert all(b["metadata"]["name"].endswith("-x7k2m") for b in bindings)
    assert all(s["namespace"] == "podlab-ch07-x7k2m" for b in bindings for s in b["subjects"])
    [pod] = by_kind["Pod"]
    assert pod["spec"]["containers"][0]["image"] == "registry.k8s.io/kube-scheduler:v9.9.9"
    assert "schedulerName" not in pod["spec"]  # the scheduler itself is placed by the default scheduler
    # the file itself is untouched
    from podlab.manifests import load_manifests
    assert load_manifests(CHAPTER / "verbose-scheduler.yaml")[-1]["spec"]["containers"][0]["image"] != "registry.k8s.io/kube-scheduler:v9.9.9"


def test_for_verbose_scheduler_points_other_pods_at_it_and_needs_the_image():
    from podlab.scheduling import for_verbose_scheduler

    [pod] = for_verbose_scheduler(_Lab(), CHAPTER / "choose-medium.yaml")
    assert pod["spec"]["schedulerName"] == "podlab-verbose-x7k2m"
    with pytest.raises(PodlabError, match="image"):
        for_verbose_scheduler(_Lab(), CHAPTER / "verbose-scheduler.yaml")


def test_plugin_scores_reads_klog_lines_of_one_pod():
    from podlab.scheduling import plugin_scores

    log = "\n".join([
        'I1207 12:00:00.000001       1 schedule_one.go:984] "Plugin scored node for pod" pod="ns/a" '
        'plugin="NodeResourcesFit" node="kwok-small-x7k2m" score=75',
        'I1207 12:00:00.000002       1 schedule_one.go:984] "Plugin scored node for pod" pod="ns/a" '
        'plugin="TaintToleration" node="kwok-small-x7k2m" score=300',
        'I1207 12:00:00.000003       1 schedule_one.go:984] "Plugin scored node for pod" pod="ns/b" '
        'plugin="NodeResourcesFit" node="kwok-small-x7k2m" score=12',
        'I1207 12:00:00.000004       1 schedule_one.go:1052] "Calculated node\'s final score for pod" pod="ns/a" '
        'node="kwok-small-x7k2m" score=375',
    ])
    assert plugin_scores(log, "ns/a") == {"NodeResourcesFit": {"kwok-small-x7k2m": 75},
                                          "TaintToleration": {"kwok-small-x7k2m": 300}}
    assert plugin_scores(log, "ns/c") == {}


def test_component_config_reads_klogs_multi_line_value():
    from podlab.scheduling import component_config

    log = ('I1207 12:00:00.000000       1 configfile.go:94] "Using component config" config=<\n'
           '\tapiVersion: kubescheduler.config.k8s.io/v1\n'
           '\tkind: KubeSchedulerConfiguration\n'
           '\tprofiles:\n'
           '\t- schedulerName: podlab-verbose-x7k2m\n'
           ' >\n'
           'I1207 12:00:00.100000       1 server.go:1] "Starting Kubernetes Scheduler"\n')
    assert component_config(log)["profiles"] == [{"schedulerName": "podlab-verbose-x7k2m"}]
    with pytest.raises(PodlabError, match="--v=2"):
        component_config("nothing here")
