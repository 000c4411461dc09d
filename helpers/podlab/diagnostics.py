"""What a pod is doing, written for a reader: state summaries, failure reports, next-step hints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kubernetes import client

from .events import Event, events
from .pods import logs

LOG_TAIL_LINES = 20
EVENT_TAIL = 12

PodLogs = Mapping[str, tuple[str, str]]  # container → (which log, text)


def summarize_pod(pod: client.V1Pod | None) -> str:
    """One line: phase, pod conditions, and any container that is not running."""
    if pod is None:
        return "not found (yet)"
    status = pod.status or client.V1PodStatus()
    parts = [status.phase or "Unknown"]
    conditions = " ".join(f"{c.type}={c.status}" for c in status.conditions or [])
    if conditions:
        parts.append(conditions)
    for cs in (status.init_container_statuses or []) + (status.container_statuses or []):
        state = _state_line(cs)
        if not state.startswith("running"):
            parts.append(f"{cs.name}: {state}")
    return " · ".join(parts)


def describe_pod(pod: client.V1Pod | None, recent: Sequence[Event], tails: PodLogs) -> str:
    """A multi-line report: phase, conditions, container states, recent events, log tails."""
    if pod is None:
        return "The pod does not exist."
    status = pod.status or client.V1PodStatus()
    node = f" on node {pod.spec.node_name}" if pod.spec and pod.spec.node_name else ""
    reason = f" ({status.reason}: {status.message})" if status.reason else ""
    lines = [f"pod/{pod.metadata.name}: phase {status.phase or 'Unknown'}{reason}{node}"]

    lines.append("  conditions:")
    if not status.conditions:
        lines.append("    (none yet)")
    width = max((len(c.type) for c in status.conditions or []), default=0)
    for c in status.conditions or []:
        why = ": ".join(x for x in (c.reason, c.message) if x)
        lines.append(f"    {c.type:<{width}}  {c.status:<5}  {why}".rstrip())

    for title, statuses in (("init containers", status.init_container_statuses),
                            ("containers", status.container_statuses)):
        if not statuses:
            continue
        lines.append(f"  {title}:")
        for cs in statuses:
            lines.append(f"    {cs.name}: {_state_line(cs)}; ready={cs.ready}, restarts={cs.restart_count}")
            last = cs.last_state.terminated if cs.last_state else None
            if last is not None:
                lines.append(f"      last run: {_terminated(last)}")

    lines.append("  events (oldest first):" if recent else "  events: none")
    lines.extend(f"    {e}" for e in recent[-EVENT_TAIL:])

    for container, (which, text) in tails.items():
        body = text.rstrip("\n").splitlines()[-LOG_TAIL_LINES:]
        lines.append(f"  log of {container} ({which}, last {LOG_TAIL_LINES} lines):" if body
                     else f"  log of {container} ({which}): empty")
        lines.extend(f"    | {line}" for line in body)
    return "\n".join(lines)


def hint_for_pod(pod: client.V1Pod | None) -> str:
    """The most likely next step, judged from the pod's state."""
    if pod is None:
        return "Nothing by that name exists: check the name, and that apply() ran in this namespace."
    status = pod.status or client.V1PodStatus()
    reasons = {cs.state.waiting.reason for cs in (status.init_container_statuses or [])
               + (status.container_statuses or []) if cs.state and cs.state.waiting}
    if reasons & {"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName"}:
        return ("The image cannot be pulled (the lab cluster has no registry): use "
                "podlab.images.LAB_IMAGE with imagePullPolicy: IfNotPresent.")
    if reasons & {"CreateContainerConfigError", "CreateContainerError"}:
        return ("The container could not be created: a referenced ConfigMap/Secret (or key) "
                "may be missing; see the message above.")
    exited = [cs for cs in status.container_statuses or []
              if cs.restart_count or (cs.state and cs.state.terminated and cs.state.terminated.exit_code)]
    if "CrashLoopBackOff" in reasons or (exited and status.phase not in ("Succeeded", "Failed")):
        return "The container keeps exiting: its log above says why; check command and args."
    unscheduled = [c for c in status.conditions or []
                   if c.type == "PodScheduled" and c.status == "False"]
    if unscheduled:
        return "The scheduler found no node for the pod: see the PodScheduled message above."
    if status.phase in ("Succeeded", "Failed"):
        return ("The pod has finished and will not run again: its log above shows how it ended; "
                "delete it and apply a fixed manifest.")
    return ("Read the events and container states above; if the pod is just slow, "
            "pass a larger timeout=.")


def collect_pod_report(namespace: str, pod: client.V1Pod | None, *,
                       api: client.ApiClient | None = None) -> str:
    """describe_pod() with the pod's events and log tails fetched from the cluster."""
    if pod is None:
        return describe_pod(None, (), {})
    name = pod.metadata.name
    try:
        recent = events(namespace, name, api=api)
    except Exception:  # same: report what can be reported
        recent = []
    tails: dict[str, tuple[str, str]] = {}
    status = pod.status or client.V1PodStatus()
    for cs in (status.init_container_statuses or []) + (status.container_statuses or []):
        if cs.state and cs.state.waiting and cs.restart_count:
            which, previous = "previous run", True  # the current instance has not started
        elif (cs.state and (cs.state.running or cs.state.terminated)) or cs.restart_count:
            which, previous = "current run", False
        else:
            continue  # never started: no log to show
        try:
            text = logs(namespace, name, container=cs.name, previous=previous,
                        tail_lines=LOG_TAIL_LINES, api=api)
        except Exception as e:  # a report must never hide the failure it explains
            text = f"(log unavailable: {str(e).splitlines()[0]})"
        tails[cs.name] = (which, text)
    return describe_pod(pod, recent, tails)


def _state_line(cs: client.V1ContainerStatus) -> str:
    state = cs.state
    if state is None:
        return "unknown"
    if state.waiting:
        return "waiting: " + ": ".join(x for x in (state.waiting.reason, state.waiting.message) if x)
    if state.terminated:
        return "terminated: " + _terminated(state.terminated)
    if state.running:
        return "running"
    return "unknown"


def _terminated(t: client.V1ContainerStateTerminated) -> str:
    why = f" ({t.reason})" if t.reason else ""
    signal = f", signal {t.signal}" if t.signal else ""
    message = f": {t.message.strip()}" if t.message and t.message.strip() else ""
    return f"exit code {t.exit_code}{signal}{why}{message}"
