"""What a pod is doing, written for a reader: state summaries, failure reports, next-step hints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kubernetes.client import ApiClient

from . import podstate
from .events import Event, event_line, events
from .objects import as_object
from .podstate import Pod, state_line, summarize_pod, terminated_line
from .pods import logs

__all__ = ["summarize_pod", "describe_pod", "hint_for_pod", "collect_pod_report"]

LOG_TAIL_LINES = 20
EVENT_TAIL = 12

PodLogs = Mapping[str, tuple[str, str]]  # container → (which log, text)


def describe_pod(pod: Pod | None, recent: Sequence[Event], tails: PodLogs) -> str:
    """A multi-line report: phase, conditions, container states, recent events, log tails."""
    if pod is None:
        return "The pod does not exist."
    pod = as_object(pod, kind="Pod")
    status = pod.get("status") or {}
    node = podstate.node_name(pod)
    reason = f" ({status.reason}: {status.get('message')})" if status.get("reason") else ""
    lines = [f"pod/{pod.metadata.name}: phase {podstate.phase(pod)}{reason}" + (f" on node {node}" if node else "")]

    conditions = status.get("conditions") or []
    lines.append("  conditions:")
    if not conditions:
        lines.append("    (none yet)")
    width = max((len(c.type) for c in conditions), default=0)
    for c in conditions:
        why = ": ".join(x for x in (c.get("reason"), c.get("message")) if x)
        lines.append(f"    {c.type:<{width}}  {c.status:<5}  {why}".rstrip())

    for title, init in (("init containers", True), ("containers", False)):
        statuses = podstate.container_statuses(pod, init=init, regular=not init)
        if not statuses:
            continue
        lines.append(f"  {title}:")
        for cs in statuses:
            lines.append(f"    {cs.name}: {state_line(cs)}; ready={cs.get('ready')}, restarts={cs.get('restartCount')}")
            last = (cs.get("lastState") or {}).get("terminated")
            if last is not None:
                lines.append(f"      last run: {terminated_line(last)}")

    lines.append("  events (oldest first):" if recent else "  events: none")
    lines.extend(f"    {event_line(e)}" for e in recent[-EVENT_TAIL:])

    for container, (which, text) in tails.items():
        body = text.rstrip("\n").splitlines()[-LOG_TAIL_LINES:]
        lines.append(f"  log of {container} ({which}, last {LOG_TAIL_LINES} lines):" if body
                     else f"  log of {container} ({which}): empty")
        lines.extend(f"    | {line}" for line in body)
    return "\n".join(lines)


def hint_for_pod(pod: Pod | None) -> str:
    """The most likely next step, judged from the pod's state."""
    if pod is None:
        return "Nothing by that name exists: check the name, and that apply() ran in this namespace."
    reasons = podstate.waiting_reasons(pod)
    if reasons & {"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName"}:
        return ("The image cannot be pulled (the lab cluster has no registry): use "
                "podlab.LAB_IMAGE with imagePullPolicy: IfNotPresent.")
    if reasons & {"CreateContainerConfigError", "CreateContainerError"}:
        return ("The container could not be created: a referenced ConfigMap/Secret (or key) "
                "may be missing; see the message above.")
    exited = [cs for cs in podstate.container_statuses(pod, init=False)
              if cs.get("restartCount") or ((cs.get("state") or {}).get("terminated") or {}).get("exitCode")]
    if "CrashLoopBackOff" in reasons or (exited and not podstate.is_finished(pod)):
        return "The container keeps exiting: its log above says why; check command and args."
    if podstate.condition(pod, "PodScheduled") == "False":
        return "The scheduler found no node for the pod: see the PodScheduled message above."
    if podstate.is_finished(pod):
        return ("The pod has finished and will not run again: its log above shows how it ended; "
                "delete it and apply a fixed manifest.")
    return ("Read the events and container states above; if the pod is just slow, "
            "pass a larger timeout=.")


def collect_pod_report(namespace: str, pod: Pod | None, *, api: ApiClient | None = None) -> str:
    """describe_pod() with the pod's events and log tails fetched from the cluster."""
    if pod is None:
        return describe_pod(None, (), {})
    name = as_object(pod, kind="Pod").metadata.name
    try:
        recent = events(namespace, name, api=api)
    except Exception:  # same: report what can be reported
        recent = []
    tails: dict[str, tuple[str, str]] = {}
    for cs in podstate.container_statuses(pod):
        state = cs.get("state") or {}
        if state.get("waiting") is not None and cs.get("restartCount"):
            which, previous = "previous run", True  # the current instance has not started
        elif state.get("running") is not None or state.get("terminated") is not None or cs.get("restartCount"):
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
