"""Pods in the states the unit tests read, as the API server serves them (built here: no cluster)."""

from __future__ import annotations

from typing import Any

from podlab.objects import KubeObject


def container(name: str = "app", *, running: bool = False, waiting: str | None = None,
              terminated: tuple[int, str] | None = None, last: tuple[int, str] | None = None,
              restarts: int = 0, ready: bool = False) -> dict[str, Any]:
    """One entry of status.containerStatuses (JSON, camelCase)."""
    def ended(t: tuple[int, str]) -> dict[str, Any]:
        return {"exitCode": t[0], "reason": t[1]}
    state: dict[str, Any] = {}
    if running:
        state["running"] = {"startedAt": "2025-01-01T00:00:00Z"}
    if waiting:
        state["waiting"] = {"reason": waiting}
    if terminated:
        state["terminated"] = ended(terminated)
    status = {"name": name, "ready": ready, "restartCount": restarts, "image": "busybox", "imageID": "",
              "state": state}
    if last:
        status["lastState"] = {"terminated": ended(last)}
    return status


def pod(phase: str | None = "Pending", *, conditions: dict[str, str] | None = None,
        scheduled: tuple[str, str | None, str | None] | None = None, node: str | None = None,
        containers: list[dict[str, Any]] | None = None,
        init: list[dict[str, Any]] | None = None, name: str = "demo") -> KubeObject:
    """A pod; conditions maps type → status, scheduled gives PodScheduled's (status, reason, message)."""
    found: list[dict[str, Any]] = [{"type": t, "status": s} for t, s in (conditions or {}).items()]
    if scheduled:
        found.insert(0, {k: v for k, v in zip(("type", "status", "reason", "message"),
                                             ("PodScheduled", *scheduled)) if v is not None})
    spec: dict[str, Any] = {"containers": [{"name": "app"}]}
    if node:
        spec["nodeName"] = node
    status: dict[str, Any] = {}
    for key, value in (("phase", phase), ("conditions", found), ("containerStatuses", containers),
                       ("initContainerStatuses", init)):
        if value:
            status[key] = value
    return KubeObject({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec,
                       "status": status})
