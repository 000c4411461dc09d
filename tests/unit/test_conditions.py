"""Wait conditions: what each one waits for, how it describes itself, and when it gives up early."""

from __future__ import annotations

import pytest

import podlab
from podlab.conditions import WaitCondition

from pods_for_tests import container, pod

FAILED = pod("Failed", containers=[container(terminated=(2, "Error"))])
SUCCEEDED = pod("Succeeded", containers=[container(terminated=(0, "Completed"))])


def test_ready():
    assert podlab.ready.description == "ready"
    assert podlab.ready.test(pod("Running", conditions={"Ready": "True"}))
    assert not podlab.ready.test(pod("Running", conditions={"Ready": "False"}))
    assert not podlab.ready.test(None)  # not created yet: keep waiting
    assert podlab.ready.give_up(pod("Running")) is None
    assert podlab.ready.give_up(FAILED) == ("it has failed (phase Failed) and a finished pod never "
                                            "becomes ready again")


def test_not_ready_and_has_condition():
    assert podlab.not_ready.description == "not ready"
    assert podlab.not_ready.test(pod("Running", conditions={"Ready": "False"}))
    wanted = podlab.has_condition("Ready", "False")
    assert str(wanted) == "Ready=False" and wanted.test(pod("Running", conditions={"Ready": "False"}))
    assert "never becomes PodScheduled=True" in podlab.has_condition("PodScheduled").give_up(SUCCEEDED)


def test_in_phase():
    succeeded = podlab.in_phase("Succeeded")
    assert succeeded.description == "in phase Succeeded"
    assert succeeded.test(SUCCEEDED) and not succeeded.test(pod("Running"))
    assert succeeded.give_up(pod("Running")) is None
    assert succeeded.give_up(FAILED).startswith("it has failed (phase Failed)")


def test_restarted():
    once = podlab.restarted()
    assert once.description == "restarted at least 1 time (its containers)"
    assert podlab.restarted(3, container="app").description == "restarted at least 3 times (container app)"
    assert once.test(pod("Running", containers=[container(restarts=1)]))
    assert not podlab.restarted(2).test(pod("Running", containers=[container(restarts=1)]))
    assert not podlab.restarted(container="other").test(pod("Running", containers=[container(restarts=4)]))
    assert once.give_up(FAILED).endswith("never becomes restarted again")


def test_terminated_with_a_reason_or_exit_code():
    error = podlab.terminated("Error")
    assert error.description == "terminated with reason Error"
    assert podlab.terminated().description == "terminated"
    assert podlab.terminated(exit_code=0, container="app").description == "terminated with exit code 0 (container app)"
    crashing = pod("Running", containers=[container(waiting="CrashLoopBackOff", last=(1, "Error"), restarts=1)])
    assert error.test(crashing)  # the run before the restart counts
    assert error.test(FAILED) and not podlab.terminated("Completed").test(FAILED)
    assert podlab.terminated(exit_code=2).test(FAILED) and not podlab.terminated("Error", exit_code=1).test(FAILED)
    assert not error.test(pod("Running", containers=[container(running=True)]))
    assert error.give_up(crashing) is None  # it may still end with Error again
    assert podlab.terminated("OOMKilled").give_up(SUCCEEDED) == (
        "it has succeeded (phase Succeeded) and its containers ended otherwise (app: exit code 0 (Completed))")


def test_unschedulable():
    stuck = pod(scheduled=("False", "Unschedulable", "0/1 nodes are available"))
    assert podlab.unschedulable.description == "unschedulable"
    assert podlab.unschedulable.test(stuck)
    assert not podlab.unschedulable.test(pod(scheduled=("False", None, None)))
    assert podlab.unschedulable.give_up(stuck) is None
    assert podlab.unschedulable.give_up(pod("Running", node="podlab-control-plane")) == (
        "it was scheduled to node podlab-control-plane")


def test_deleted_exists_and_finished_for_any_object():
    assert podlab.deleted.description == "deleted"
    assert podlab.deleted.test(None) and not podlab.deleted.test({"kind": "Namespace"})
    assert podlab.exists.test({"kind": "ServiceAccount"}) and not podlab.exists.test(None)
    assert podlab.deleted.give_up({"kind": "Namespace"}) is None
    assert podlab.finished.test(FAILED) and podlab.finished.test(SUCCEEDED)
    assert not podlab.finished.test(pod("Running"))


def test_satisfies_wraps_a_predicate_and_never_sees_an_absent_object():
    seen = []
    labelled = podlab.satisfies(lambda p: seen.append(p) or p.metadata.name == "demo", "named demo")
    assert isinstance(labelled, WaitCondition) and str(labelled) == "named demo"
    assert not labelled.test(None) and seen == []
    assert labelled.test(pod())


@pytest.mark.parametrize("condition", [podlab.ready, podlab.not_ready, podlab.in_phase("Running"),
                                       podlab.restarted(), podlab.terminated(), podlab.unschedulable,
                                       podlab.has_condition("Ready")])
def test_pod_conditions_do_not_hold_for_an_absent_pod_and_do_not_give_up_on_it(condition):
    assert not condition.test(None)
    assert condition.give_up(None) is None
