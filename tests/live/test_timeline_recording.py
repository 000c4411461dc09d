"""Live: a pod's timeline recorded through its deletion, its hooks' marks included."""

from __future__ import annotations

import pytest

import podlab
from podlab.timeline import MARK_SHELL

pytestmark = pytest.mark.live

GRACE = 3  # seconds: the preStop hook's 1 s and the SIGTERM trap fit well within it


@pytest.fixture(scope="module")
def lab(live_cluster):
    """One lab for this module's pods, deleted afterwards."""
    with podlab.open_lab("timeline-test") as opened:
        yield opened


def hooked_pod(name: str) -> dict:
    """A pod whose entrypoint, postStart and preStop hooks and SIGTERM trap write marks to the termination log."""
    def script(body: str) -> list[str]:
        return ["sh", "-c", f"{MARK_SHELL}; {body}"]
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"terminationGracePeriodSeconds": GRACE, "containers": [{
            "name": "app", "image": podlab.LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
            "command": script("mark entrypoint-start; trap 'mark sigterm; exit 0' TERM; sleep 3600 & wait"),
            "lifecycle": {
                "postStart": {"exec": {"command": script("mark postStart-start; sleep 1; mark postStart-end")}},
                "preStop": {"exec": {"command": script("mark preStop-start; sleep 1; mark preStop-end")}}}}]}}


def test_a_deleted_pods_timeline_keeps_its_hooks_and_exit(lab):
    tl = lab.timeline("hooks")  # recording before the pod exists: nothing is missed
    lab.apply(hooked_pod("hooks"))
    lab.wait("hooks", podlab.ready)
    lab.delete("hooks")  # waits until the pod is gone from the API server
    tl.stop()

    names = set(tl.names())
    assert {"Scheduled", "Pulled", "Created", "Started", "Killing", "created", "Ready", "app running",
            "app exited", "deletion requested", "grace period ends", "removed", "entrypoint-start",
            "postStart-start", "postStart-end", "preStop-start", "preStop-end", "sigterm"} <= names, names
    assert tl.moment("app exited").detail == "exit code 0, Completed"  # the trap's exit 0, not SIGKILL
    tl.expect_order("Scheduled", "Started", "Ready")
    tl.expect_order("deletion requested", "app exited", "removed")
    tl.expect_order("deletion requested", "Killing")
    tl.expect_order("deletion requested", "preStop-start", "preStop-end", "sigterm")
    tl.expect_order("postStart-end", "Ready")  # the kubelet reports the container running after postStart
    # the kubelet sends SIGTERM once preStop has returned, and the trap exits at once
    tl.expect_between("deletion requested", "app exited", 0, GRACE)
    tl.expect_between("preStop-start", "preStop-end", 1, 2)
    tl.expect_between("preStop-end", "sigterm", 0, 1)

    # marks carry microseconds; API times whole seconds
    assert tl.moment("sigterm").resolution == pytest.approx(1e-6)
    assert tl.moment("app exited").resolution == tl.moment("Killing").resolution == 1.0


def test_a_pod_deleted_right_after_start_is_recorded(lab):
    """start() returns once both watches have listed: a graceless delete sent next is seen."""
    lab.apply(hooked_pod("forced"))
    lab.wait("forced", podlab.ready)
    tl = lab.timeline("forced")
    lab.delete("forced", grace_period=0, wait=False)  # writes deletionTimestamp, then removes the pod at once
    lab.wait("forced", podlab.deleted, timeout=30)
    tl.stop()
    assert tl.moment("deletion requested").detail == "grace period 0 s"
    assert "grace period ends" not in tl.names()
    tl.expect_order("Ready", "deletion requested", "removed")


def test_snapshots_without_a_watch(lab):
    tl = lab.timeline("snap", record=False)
    lab.apply(hooked_pod("snap"))
    lab.wait("snap", podlab.ready)
    tl.snapshot()
    tl.expect_seen("Scheduled", "Started", "app running", "Ready")
    assert "app exited" not in tl.names()  # a snapshot sees only the states it was taken in
    lab.delete("snap")
    tl.stop()  # the last look: the events are still there, the pod is not
    assert "Killing" in tl.names() and "removed" in tl.names()


def test_the_figure_of_a_recorded_pod(lab, tmp_path):
    pytest.importorskip("matplotlib")
    with lab.timeline("figure") as tl:
        lab.apply(hooked_pod("figure"))
        lab.wait("figure", podlab.ready)
        lab.delete("figure")
    figure = tl.plot()
    # moments of one row at the same second share one label ("Created, Started")
    labels = {part for t in figure.axes[0].texts for part in t.get_text().split(", ")}
    assert {"Started", "deletion requested", "preStop-start", "sigterm", "app exited (0)"} <= labels
    figure.savefig(tmp_path / "timeline.png")
    assert (tmp_path / "timeline.png").read_bytes().startswith(b"\x89PNG")
