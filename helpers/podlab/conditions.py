"""What a wait waits for: condition values that carry their description and an early give-up rule.

    lab.wait("demo", podlab.ready)
    lab.wait("job", podlab.in_phase("Succeeded"))
    lab.wait("crash", podlab.restarted(at_least=2))
    lab.wait("hog", podlab.terminated(reason="OOMKilled"))
    lab.wait("huge", podlab.unschedulable)
    lab.wait("demo", podlab.deleted)

A condition is a pure test of the object as the wait last saw it (None while it is absent).
Its give-up rule names why the state can no longer come (a finished pod never becomes
ready), so the wait fails at once with that reason instead of running into its timeout.
The names follow the upstream e2e framework's pod waits (WaitForPodCondition with a
description, WaitForPodRunningInNamespace, WaitForPodTerminatedInNamespace, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import podstate

Observed = Any  # the object as last seen (a KubeObject), None when absent


def _never(obj: Observed | None) -> str | None:
    return None


@dataclass(frozen=True)
class WaitCondition:
    """A state to wait for: test(obj) says whether it holds, give_up(obj) why it never will (or None)."""

    description: str
    test: Callable[[Observed | None], bool]
    give_up: Callable[[Observed | None], str | None] = _never

    def __str__(self) -> str:
        return self.description


def _once_finished(goal: str) -> Callable[[Observed | None], str | None]:
    """Give up when the pod has finished: a finished pod never runs, restarts or changes phase again."""
    def rule(pod: Observed | None) -> str | None:
        if pod is None or not podstate.is_finished(pod):
            return None
        phase = podstate.phase(pod)
        return f"it has {phase.lower()} (phase {phase}) and a finished pod never becomes {goal} again"
    return rule


def _pod_test(test: Callable[[Any], bool]) -> Callable[[Observed | None], bool]:
    return lambda pod: pod is not None and test(pod)


ready = WaitCondition("ready", _pod_test(podstate.is_ready), _once_finished("ready"))
"""Running, with its Ready condition True; gives up once the pod has finished."""

not_ready = WaitCondition("not ready", _pod_test(lambda pod: podstate.condition(pod, "Ready") == "False"))
"""Its Ready condition is False (e.g. a readiness probe started failing)."""

finished = WaitCondition("finished", _pod_test(podstate.is_finished))
"""In phase Succeeded or Failed: all its containers have ended for good."""

exists = WaitCondition("created", lambda obj: obj is not None)
"""The object exists (any kind)."""

deleted = WaitCondition("deleted", lambda obj: obj is None)
"""The object is gone (any kind); holds at once if it never existed."""


def in_phase(phase: str) -> WaitCondition:
    """The pod's phase is phase (Pending, Running, Succeeded or Failed)."""
    return WaitCondition(f"in phase {phase}", _pod_test(lambda pod: podstate.phase(pod) == phase),
                         _once_finished(f"in phase {phase}"))


def has_condition(condition_type: str, status: str = "True") -> WaitCondition:
    """The pod condition condition_type (Ready, PodScheduled, ...) has the given status."""
    wanted = f"{condition_type}={status}"
    return WaitCondition(wanted, _pod_test(lambda pod: podstate.condition(pod, condition_type) == status),
                         _once_finished(wanted))


def restarted(at_least: int = 1, *, container: str | None = None) -> WaitCondition:
    """The pod's containers (or just `container`) restarted at least at_least times in all."""
    which = f"container {container}" if container else "its containers"
    return WaitCondition(f"restarted at least {at_least} time{'s' * (at_least != 1)} ({which})",
                         _pod_test(lambda pod: podstate.restart_count(pod, container) >= at_least),
                         _once_finished("restarted"))


def terminated(reason: str | None = None, *, exit_code: int | None = None,
               container: str | None = None) -> WaitCondition:
    """A container run ended (this one or the one before a restart), with that reason/exit code if given.

    Reasons are the kubelet's: Completed (exit code 0), Error, OOMKilled, ContainerCannotRun, ...
    Gives up once the pod has finished and none of its runs ended that way.
    """
    def matching(pod: Any) -> bool:
        return any((reason is None or t.get("reason") == reason) and (exit_code is None or t.get("exitCode") == exit_code)
                   for _, t in podstate.terminations(pod, container))

    def give_up(pod: Observed | None) -> str | None:
        if pod is None or not podstate.is_finished(pod):
            return None
        ended = "; ".join(f"{name}: {podstate.terminated_line(t)}"
                          for name, t in podstate.terminations(pod, container)) or "none ended"
        phase = podstate.phase(pod)
        return f"it has {phase.lower()} (phase {phase}) and its containers ended otherwise ({ended})"

    description = "terminated" + (f" with reason {reason}" if reason else "") + (
        f"{' and' if reason else ' with'} exit code {exit_code}" if exit_code is not None else "") + (
        f" (container {container})" if container else "")
    return WaitCondition(description, _pod_test(matching), give_up)


def _scheduled_elsewhere(pod: Observed | None) -> str | None:
    node = podstate.node_name(pod) if pod is not None else None
    return f"it was scheduled to node {node}" if node else None


unschedulable = WaitCondition("unschedulable",
                              _pod_test(lambda pod: podstate.unschedulable_message(pod) is not None),
                              _scheduled_elsewhere)
"""The scheduler found no node for the pod (PodScheduled=False, reason Unschedulable)."""


def satisfies(predicate: Callable[[Any], bool], description: str) -> WaitCondition:
    """A custom condition: predicate(obj) holds (an absent object never satisfies it)."""
    return WaitCondition(description, lambda obj: obj is not None and bool(predicate(obj)))
