"""Reading a pod's state (podlab.podstate): pure functions of pods as served (KubeObjects built here)."""

from __future__ import annotations

from kubernetes import client

from podlab import podstate
from podlab.objects import KubeObject, pod_line

from pods_for_tests import container, pod


def test_phase_and_conditions():
    running = pod("Running", conditions={"Ready": "True"}, node="n1")
    assert podstate.phase(running) == "Running"
    assert podstate.condition(running, "Ready") == "True"
    assert podstate.condition(running, "PodScheduled") is None
    assert podstate.is_ready(running) and not podstate.is_finished(running)
    assert podstate.node_name(running) == "n1"
    assert podstate.phase(KubeObject({"kind": "Pod", "metadata": {"name": "new"}})) == "Unknown"
    assert podstate.phase({"metadata": {"name": "plain"}, "status": {"phase": "Failed"}}) == "Failed"  # a dict reads alike


def test_ready_needs_running_and_ready_true():
    assert not podstate.is_ready(pod("Pending", conditions={"Ready": "True"}))
    assert not podstate.is_ready(pod("Running", conditions={"Ready": "False"}))
    assert podstate.is_finished(pod("Succeeded")) and podstate.is_finished(pod("Failed"))


def test_restarts_sum_regular_containers_unless_one_is_named():
    p = pod("Running", containers=[container("a", restarts=2), container("b", restarts=1)],
            init=[container("sidecar", restarts=5)])
    assert podstate.restart_count(p) == 3
    assert podstate.restart_count(p, "b") == 1
    assert podstate.restart_count(p, "sidecar") == 5
    assert [cs.name for cs in podstate.container_statuses(p)] == ["sidecar", "a", "b"]
    assert [cs.name for cs in podstate.container_statuses(p, init=False)] == ["a", "b"]


def test_terminations_include_the_run_before_a_restart():
    p = pod("Running", containers=[container("app", waiting="CrashLoopBackOff", last=(1, "Error"), restarts=1),
                                   container("done", terminated=(0, "Completed"))])
    assert [(name, t.exitCode, t.reason) for name, t in podstate.terminations(p)] == [
        ("app", 1, "Error"), ("done", 0, "Completed")]
    assert podstate.waiting_reasons(p) == {"CrashLoopBackOff"}


def test_unschedulable_message_only_for_reason_unschedulable():
    stuck = pod(scheduled=("False", "Unschedulable", "0/1 nodes are available: 1 node(s) didn't match "
                                                    "Pod's node affinity/selector."))
    assert "didn't match" in podstate.unschedulable_message(stuck)
    assert podstate.unschedulable_message(pod(scheduled=("False", "SchedulerError", "x"))) is None
    assert podstate.unschedulable_message(pod("Running", scheduled=("True", None, None))) is None


def test_state_lines_and_summary():
    p = pod("Running", conditions={"Ready": "False"},
            containers=[container("app", waiting="CrashLoopBackOff"), container("web", running=True)])
    assert podstate.summarize_pod(p) == "Running · Ready=False · app: waiting: CrashLoopBackOff"
    assert podstate.state_line(container(terminated=(137, "OOMKilled"))) == "terminated: exit code 137 (OOMKilled)"
    assert podstate.summarize_pod(None) == "not found (yet)"
    assert pod_line(p) == "pod/demo: Running, Ready=False"


def test_a_client_model_reads_the_same_as_its_json():
    raw = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "demo"},
           "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "busybox"}]},
           "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                      "containerStatuses": [{"name": "app", "ready": True, "restartCount": 2, "image": "b",
                                             "imageID": "", "state": {"running": {}},
                                             "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}}
    obj = KubeObject(raw)
    assert podstate.is_ready(obj) and podstate.restart_count(obj) == 2
    assert [(n, t.reason) for n, t in podstate.terminations(obj)] == [("app", "Error")]
    assert pod_line(obj) == "pod/demo: Running, Ready=True"
    model = client.V1Pod(metadata=client.V1ObjectMeta(name="demo"), status=client.V1PodStatus(
        phase="Running", container_statuses=[client.V1ContainerStatus(
            name="app", ready=True, restart_count=2, image="b", image_id="",
            last_state=client.V1ContainerState(terminated=client.V1ContainerStateTerminated(exit_code=1, reason="Error")))]))
    assert podstate.restart_count(model) == 2 and podstate.terminations(model) == podstate.terminations(obj)


def test_state_reason_of_the_first_or_the_named_container():
    p = pod("Running", containers=[container("task", waiting="CrashLoopBackOff", last=(1, "Error")),
                                   container("side", running=True)],
            init=[container("setup", terminated=(0, "Completed"))])
    assert podstate.state_reason(p) == "CrashLoopBackOff"
    assert podstate.state_reason(p, "side") is None              # running: no reason
    assert podstate.state_reason(p, "setup") == "Completed"      # init containers by name
    assert podstate.state_reason(pod("Failed", containers=[container(terminated=(137, "OOMKilled"))])) == "OOMKilled"
    assert podstate.state_reason(pod("Pending")) is None         # no status yet
    assert podstate.state_reason(p, "absent") is None
