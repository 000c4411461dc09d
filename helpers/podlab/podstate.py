"""Reading a pod's state: pure functions shared by the waits, the notebook display and diagnostics.

Each takes a pod as the kubernetes client's V1Pod or as a KubeObject of kind Pod (which
reads the same, attribute by attribute) and never calls the API server.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

TERMINAL_PHASES = ("Succeeded", "Failed")

Pod = Any  # client.V1Pod, or a podlab KubeObject of kind Pod
ContainerStatus = client.V1ContainerStatus


def _status(pod: Pod) -> client.V1PodStatus:
    return pod.status or client.V1PodStatus()


def phase(pod: Pod) -> str:
    """The pod's phase (Pending, Running, Succeeded, Failed), or Unknown before it has one."""
    return _status(pod).phase or "Unknown"


def is_finished(pod: Pod) -> bool:
    """Whether the pod is in a terminal phase: none of its containers will ever run again."""
    return phase(pod) in TERMINAL_PHASES


def condition(pod: Pod, condition_type: str) -> str | None:
    """The status (True, False, Unknown) of the pod condition condition_type, None when absent."""
    found = condition_of(pod, condition_type)
    return found.status if found is not None else None


def condition_of(pod: Pod, condition_type: str) -> client.V1PodCondition | None:
    """The pod condition condition_type itself (status, reason, message), None when absent."""
    return next((c for c in _status(pod).conditions or [] if c.type == condition_type), None)


def is_ready(pod: Pod) -> bool:
    """Running with its Ready condition True."""
    return phase(pod) == "Running" and condition(pod, "Ready") == "True"


def container_statuses(pod: Pod, container: str | None = None, *, init: bool = True,
                       regular: bool = True) -> list[ContainerStatus]:
    """Status of each init container, then each regular one (or only of those named `container`)."""
    status = _status(pod)
    every = (((status.init_container_statuses or []) if init else [])
             + ((status.container_statuses or []) if regular else []))
    return [cs for cs in every if container is None or cs.name == container]


def restart_count(pod: Pod, container: str | None = None) -> int:
    """Restarts of the pod's (regular) containers, summed, or of the named container."""
    return sum(cs.restart_count or 0 for cs in container_statuses(pod, container, init=container is not None))


def terminations(pod: Pod, container: str | None = None) -> list[tuple[str, client.V1ContainerStateTerminated]]:
    """(container, how it ended) for each container's current and previous run that ended."""
    ended = []
    for cs in container_statuses(pod, container):
        for state in (cs.state, cs.last_state):
            if state is not None and state.terminated is not None:
                ended.append((cs.name, state.terminated))
    return ended


def waiting_reasons(pod: Pod) -> set[str]:
    """Why containers wait (ContainerCreating, CrashLoopBackOff, ImagePullBackOff, ...)."""
    return {cs.state.waiting.reason for cs in container_statuses(pod)
            if cs.state and cs.state.waiting and cs.state.waiting.reason}


def state_reason(pod: Pod, container: str | None = None) -> str | None:
    """The reason of a container's current state (Waiting or Terminated; the first container by
    default), None while it runs or before it has a status."""
    statuses = container_statuses(pod, container, init=container is not None)
    state = statuses[0].state if statuses else None
    for current in (state.waiting, state.terminated) if state else ():
        if current is not None:
            return current.reason
    return None


def node_name(pod: Pod) -> str | None:
    """The node the pod was scheduled to, None while it has none."""
    return pod.spec.node_name if pod.spec else None


def unschedulable_message(pod: Pod) -> str | None:
    """The scheduler's message when it found no node for the pod (PodScheduled=False, Unschedulable)."""
    scheduled = condition_of(pod, "PodScheduled")
    if scheduled is None or scheduled.status != "False" or scheduled.reason != "Unschedulable":
        return None
    return scheduled.message or "no node fits"


def state_line(cs: ContainerStatus) -> str:
    """A container's current state in words: running, waiting: reason, terminated: exit code…"""
    state = cs.state
    if state is None:
        return "unknown"
    if state.waiting:
        return "waiting: " + ": ".join(x for x in (state.waiting.reason, state.waiting.message) if x)
    if state.terminated:
        return "terminated: " + terminated_line(state.terminated)
    if state.running:
        return "running"
    return "unknown"


def terminated_line(t: client.V1ContainerStateTerminated) -> str:
    """How a container run ended: exit code, signal, reason and message."""
    why = f" ({t.reason})" if t.reason else ""
    signal = f", signal {t.signal}" if t.signal else ""
    message = f": {t.message.strip()}" if t.message and t.message.strip() else ""
    return f"exit code {t.exit_code}{signal}{why}{message}"


def summarize_pod(pod: Pod | None) -> str:
    """One line: phase, pod conditions, and any container that is not running."""
    if pod is None:
        return "not found (yet)"
    parts = [phase(pod)]
    conditions = " ".join(f"{c.type}={c.status}" for c in _status(pod).conditions or [])
    if conditions:
        parts.append(conditions)
    for cs in container_statuses(pod):
        state = state_line(cs)
        if not state.startswith("running"):
            parts.append(f"{cs.name}: {state}")
    return " · ".join(parts)


def pod_line(pod: Pod) -> str:
    """`pod/demo: Running, Ready=True`: the name, the phase and readiness (a notebook's display)."""
    return f"pod/{pod.metadata.name}: {phase(pod)}, Ready={condition(pod, 'Ready') or 'Unknown'}"
