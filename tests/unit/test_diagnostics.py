"""Readable reports of what a pod is doing, and the next step suggested for it."""

from __future__ import annotations

from datetime import datetime, timezone


from podlab.diagnostics import describe_pod, hint_for_pod, summarize_pod
from podlab.events import event_count, event_line, event_time
from podlab.objects import KubeObject

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def crashing_pod() -> KubeObject:
    return KubeObject({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crash"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app"}]},
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                 "message": "containers with unready status: [app]"},
            ],
            "containerStatuses": [{
                "name": "app", "ready": False, "restartCount": 2, "image": "busybox", "imageID": "",
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                                      "message": "back-off 20s restarting failed container"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
            }],
        },
    })


def test_report_shows_phase_conditions_states_events_and_log_tail():
    report = describe_pod(
        crashing_pod(),
        [KubeObject({"kind": "Event", "metadata": {"name": "crash.1"}, "type": "Warning", "reason": "BackOff",
                     "involvedObject": {"kind": "Pod", "name": "crash"}, "count": 3,
                     "message": "Back-off restarting failed container"})],
        {"app": ("previous run", "starting\nconfig missing, exiting\n")},
    )
    assert report.splitlines() == [
        "pod/crash: phase Running on node node-1",
        "  conditions:",
        "    PodScheduled  True",
        "    Ready         False  ContainersNotReady: containers with unready status: [app]",
        "  containers:",
        "    app: waiting: CrashLoopBackOff: back-off 20s restarting failed container; ready=False, restarts=2",
        "      last run: exit code 1 (Error)",
        "  events (oldest first):",
        "    Warning  BackOff              pod/crash: Back-off restarting failed container (x3)",
        "  log of app (previous run, last 20 lines):",
        "    | starting",
        "    | config missing, exiting",
    ]


def test_report_for_missing_pod_and_empty_log():
    assert describe_pod(None, [], {}) == "The pod does not exist."
    report = describe_pod(crashing_pod(), [], {"app": ("current run", "")})
    assert "  events: none" in report
    assert report.endswith("  log of app (current run): empty")


def test_summary_is_one_line_with_phase_conditions_and_stuck_containers():
    assert summarize_pod(crashing_pod()) == (
        "Running · PodScheduled=True Ready=False · app: waiting: CrashLoopBackOff: "
        "back-off 20s restarting failed container")
    assert summarize_pod(None) == "not found (yet)"


def test_hints_follow_the_state():
    assert "keeps exiting" in hint_for_pod(crashing_pod())
    between_restarts = crashing_pod()
    between_restarts["status"]["containerStatuses"][0]["state"] = {"terminated": {"exitCode": 1, "reason": "Error"}}
    assert "keeps exiting" in hint_for_pod(between_restarts)
    pod = crashing_pod()
    pod.status.containerStatuses[0].state.waiting["reason"] = "ImagePullBackOff"
    assert "LAB_IMAGE" in hint_for_pod(pod)
    pod.status.containerStatuses[0].state.waiting["reason"] = "CreateContainerConfigError"
    assert "ConfigMap/Secret" in hint_for_pod(pod)
    assert "check the name" in hint_for_pod(None)


def test_event_folding_prefers_series_and_last_timestamp():
    old_style = {"metadata": {"name": "e1", "creationTimestamp": "2025-01-01T00:00:00Z"},
                 "involvedObject": {"kind": "Pod", "name": "demo"}, "reason": "Pulled",
                 "message": " Image present \n", "type": "Normal", "count": 4,
                 "lastTimestamp": "2025-01-02T00:00:00Z"}
    new_style = {"metadata": {"name": "e2", "creationTimestamp": "2025-01-01T00:00:00Z"},
                 "involvedObject": {"kind": "Pod", "name": "demo"}, "reason": "Scheduled", "message": "assigned",
                 "type": "Normal", "eventTime": "2025-01-01T00:00:00.000000Z",
                 "series": {"count": 2, "lastObservedTime": "2025-01-03T00:00:00.000000Z"}}
    assert (event_time(old_style), event_count(old_style)) == (datetime(2025, 1, 2, tzinfo=timezone.utc), 4)
    assert event_line(old_style) == "Normal   Pulled               pod/demo: Image present (x4)"
    assert (event_time(new_style), event_count(new_style)) == (datetime(2025, 1, 3, tzinfo=timezone.utc), 2)
    bare = {"metadata": {"name": "e3", "creationTimestamp": "2025-01-01T00:00:00Z"}, "reason": "Started"}
    assert (event_time(bare), event_count(bare), event_line(bare)) == (T0, 1, "         Started              ?: ")
