"""Reading a pod's state: pure functions shared by the waits, the notebook display and diagnostics.

Each reads the pod as served, in camelCase (a podlab KubeObject of kind Pod; a plain dict
or the kubernetes client's V1Pod is read as its JSON), and never calls the API server.
Container statuses and their states come back as podlab Fields: dicts read the same way.
"""

from __future__ import annotations

from typing import Any

from .objects import Fields, as_object


TERMINAL_PHASES = ("Succeeded", "Failed")

Pod = Any  # a podlab KubeObject of kind Pod (a dict of its JSON, or a client V1Pod, is read as one)
ContainerStatus = Fields  # one entry of status.containerStatuses, as served


def _pod(pod: Pod) -> Fields:
    return as_object(pod, kind="Pod")


def _status(pod: Pod) -> Fields:
    return _pod(pod).get("status") or Fields(where="pod status")


def phase(pod: Pod) -> str:
    """The pod's phase (Pending, Running, Succeeded, Failed), or Unknown before it has one."""
    return _status(pod).get("phase") or "Unknown"


def is_finished(pod: Pod) -> bool:
    """Whether the pod is in a terminal phase: none of its containers will ever run again."""
    return phase(pod) in TERMINAL_PHASES


def condition(pod: Pod, condition_type: str) -> str | None:
    """The status (True, False, Unknown) of the pod condition condition_type, None when absent."""
    found = condition_of(pod, condition_type)
    return found.get("status") if found is not None else None


def condition_of(pod: Pod, condition_type: str) -> Fields | None:
    """The pod condition condition_type itself (status, reason, message), None when absent."""
    return next((c for c in _status(pod).get("conditions") or [] if c.get("type") == condition_type), None)


def is_ready(pod: Pod) -> bool:
    """Running with its Ready condition True."""
    return phase(pod) == "Running" and condition(pod, "Ready") == "True"


def container_statuses(pod: Pod, container: str | None = None, *, init: bool = True,
                       regular: bool = True) -> list[ContainerStatus]:
    """Status of each init container, then each regular one (or only of those named `container`)."""
    status = _status(pod)
    every = (((status.get("initContainerStatuses") or []) if init else [])
             + ((status.get("containerStatuses") or []) if regular else []))
    return [cs for cs in every if container is None or cs.get("name") == container]


def restart_count(pod: Pod, container: str | None = None) -> int:
    """Restarts of the pod's (regular) containers, summed, or of the named container."""
    return sum(cs.get("restartCount") or 0 for cs in container_statuses(pod, container, init=container is not None))


def terminations(pod: Pod, container: str | None = None) -> list[tuple[str, Fields]]:
    """(container, how it ended: its state.terminated) for each container's current and previous run that ended."""
    ended = []
    for cs in container_statuses(pod, container):
        for state in (cs.get("state"), cs.get("lastState")):
            if state and state.get("terminated"):
                ended.append((cs.name, state.terminated))
    return ended


def waiting_reasons(pod: Pod) -> set[str]:
    """Why containers wait (ContainerCreating, CrashLoopBackOff, ImagePullBackOff, ...)."""
    return {cs.state.waiting.reason for cs in container_statuses(pod)
            if (cs.get("state") or {}).get("waiting", {}).get("reason")}


def state_reason(pod: Pod, container: str | None = None) -> str | None:
    """The reason of a container's current state (Waiting or Terminated; the first container by
    default), None while it runs or before it has a status."""
    statuses = container_statuses(pod, container, init=container is not None)
    state = (statuses[0].get("state") if statuses else None) or {}
    for current in (state.get("waiting"), state.get("terminated")):
        if current is not None:
            return current.get("reason")
    return None


def node_name(pod: Pod) -> str | None:
    """The node the pod was scheduled to, None while it has none."""
    return (_pod(pod).get("spec") or {}).get("nodeName")


def unschedulable_message(pod: Pod) -> str | None:
    """The scheduler's message when it found no node for the pod (PodScheduled=False, Unschedulable)."""
    scheduled = condition_of(pod, "PodScheduled")
    if scheduled is None or scheduled.get("status") != "False" or scheduled.get("reason") != "Unschedulable":
        return None
    return scheduled.get("message") or "no node fits"


def state_line(cs: ContainerStatus) -> str:
    """A container's current state in words: running, waiting: reason, terminated: exit code…"""
    state = as_object(cs).get("state")
    if not state:
        return "unknown"
    if state.get("waiting") is not None:
        return "waiting: " + ": ".join(x for x in (state.waiting.get("reason"), state.waiting.get("message")) if x)
    if state.get("terminated") is not None:
        return "terminated: " + terminated_line(state.terminated)
    if state.get("running") is not None:
        return "running"
    return "unknown"


def terminated_line(t: Fields) -> str:
    """How a container run ended (a state.terminated as served): exit code, signal, reason and message."""
    t = as_object(t)
    why = f" ({t.reason})" if t.get("reason") else ""
    signal = f", signal {t.signal}" if t.get("signal") else ""
    message = f": {t.message.strip()}" if (t.get("message") or "").strip() else ""
    return f"exit code {t.get('exitCode')}{signal}{why}{message}"


def summarize_pod(pod: Pod | None) -> str:
    """One line: phase, pod conditions, and any container that is not running."""
    if pod is None:
        return "not found (yet)"
    parts = [phase(pod)]
    conditions = " ".join(f"{c.type}={c.status}" for c in _status(pod).get("conditions") or [])
    if conditions:
        parts.append(conditions)
    for cs in container_statuses(pod):
        state = state_line(cs)
        if not state.startswith("running"):
            parts.append(f"{cs.get('name')}: {state}")
    return " · ".join(parts)
