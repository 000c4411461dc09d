"""Waiting for an object to reach a state: list, then watch from that resourceVersion.

Every wait is event-driven (no polling) and bounded by a deadline: each watch asks the
server to end it when the remaining time is up, and a watch the server ends early is
resumed from the last resourceVersion seen. An expired resourceVersion (410 Gone) or a
broken stream is recovered by relisting and watching again. On failure the error shows
what the pod was doing and why.
"""

from __future__ import annotations

import json
import math
import time
from contextlib import closing
from typing import Any, Protocol
from collections.abc import Callable, Iterable, Iterator

from kubernetes import client

from ._api import Resource, WatchExpired, request_json, resource_for, watch_events
from .connect import connect
from .diagnostics import collect_pod_report, hint_for_pod, summarize_pod
from .errors import PodlabError
from .livestatus import LiveStatus

DEFAULT_TIMEOUT = 120.0
TERMINAL_PHASES = ("Succeeded", "Failed")

RawObject = dict[str, Any]
PodPredicate = Callable[[client.V1Pod], bool]
ObjectPredicate = Callable[[RawObject | None], bool]
ObjectsPredicate = Callable[[list[RawObject]], bool]


class KubeObject(dict):
    """An object as the API server returned it (a plain dict); displays as `kind/name`."""

    def __repr__(self) -> str:
        return f"{str(self.get('kind', '?')).lower()}/{(self.get('metadata') or {}).get('name', '?')}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class KubeObjects(list):
    """Objects selected by labels (names often generated); displays as their kind and count."""

    def __init__(self, items: Iterable[RawObject], kind: str) -> None:
        super().__init__(KubeObject(o) for o in items)
        self.kind = kind.lower()

    def __repr__(self) -> str:
        return f"{len(self)} {self.kind} object{'s' * (len(self) != 1)}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class WaitFailed(PodlabError):
    """The awaited state can no longer be reached (e.g. the pod finished); a predicate may raise it."""


class WaitTimeout(WaitFailed):
    """The awaited state was not reached before the deadline."""


class ObjectSource(Protocol):
    """Where the states of a selection of objects (often one, by name) come from."""

    def list(self) -> tuple[list[RawObject], str]:
        """The selected objects now and the collection's resourceVersion."""
        ...

    def watch(self, resource_version: str, timeout_seconds: int) -> Iterable[RawObject]:
        """Raw watch events after resource_version; raises WatchExpired to ask for a relist."""
        ...


def observe(source: ObjectSource, deadline: float,
            clock: Callable[[], float] = time.monotonic) -> Iterator[list[RawObject]]:
    """Yield the selected objects now, then after each change, until the deadline passes."""
    current, version = _keyed(source.list())
    yield list(current.values())
    while (remaining := deadline - clock()) > 0:
        stream = source.watch(version, max(1, math.ceil(remaining)))
        try:
            for event in stream:
                kind, body = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if body.get("code") == 410:
                        raise WatchExpired(body.get("message", ""))
                    raise PodlabError(f"The watch failed: {body.get('message') or body}",
                                      hint="Run the cell again; if it persists, check `podlab status`.")
                version = (body.get("metadata") or {}).get("resourceVersion") or version
                if kind == "BOOKMARK":
                    continue
                if kind == "DELETED":
                    current.pop(_key(body), None)
                else:
                    current[_key(body)] = body
                yield list(current.values())
                if clock() >= deadline:
                    return
        except WatchExpired:
            current, version = _keyed(source.list())  # cannot resume: start over from the present
            yield list(current.values())
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()


def _key(obj: RawObject) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return metadata.get("namespace", ""), metadata.get("name", "")


def _keyed(listed: tuple[list[RawObject], str]) -> tuple[dict[tuple[str, str], RawObject], str]:
    items, version = listed
    return {_key(o): o for o in items}, version


class _ApiSource:
    """The selected objects of one kind, from the API server."""

    def __init__(self, api: client.ApiClient, resource: Resource, namespace: str | None, *,
                 name: str | None = None, label_selector: str | None = None) -> None:
        self.api, self.path = api, resource.path(namespace)
        self.query = ([("fieldSelector", f"metadata.name={name}")] if name else []) + (
            [("labelSelector", label_selector)] if label_selector else [])

    def list(self) -> tuple[list[RawObject], str]:
        reply = request_json(self.api, "GET", self.path, query=self.query)
        return reply.get("items") or [], reply["metadata"]["resourceVersion"]

    def watch(self, resource_version: str, timeout_seconds: int) -> Iterator[RawObject]:
        return watch_events(self.api, self.path, query=self.query,
                            resource_version=resource_version, timeout_seconds=timeout_seconds)


def _only(objects: list[RawObject]) -> RawObject | None:
    return objects[0] if objects else None


def wait_for_object(namespace: str | None, kind: str, name: str, predicate: ObjectPredicate, *,
                    description: str, api_version: str = "v1", timeout: float = DEFAULT_TIMEOUT,
                    api: client.ApiClient | None = None) -> KubeObject | None:
    """Wait until predicate(object as a dict, or None when absent) holds; return that state."""
    api = api or connect()
    source = _ApiSource(api, resource_for(api, api_version, kind), namespace, name=name)
    what = f"{kind.lower()}/{name}" + (f" in namespace {namespace}" if namespace else "")

    def report(last: list[RawObject]) -> tuple[str, str | None]:
        return f"Last seen: {_status_json(kind, last) if last else 'absent'}", None

    found = _wait(source, lambda objs: predicate(_only(objs)), what=what, description=description,
                  timeout=timeout, summarize=lambda objs: "present" if objs else "absent",
                  report=report)
    return KubeObject(found[0]) if found else None


def wait_for_objects(namespace: str | None, kind: str, label_selector: str, predicate: ObjectsPredicate,
                     *, description: str, api_version: str = "v1", timeout: float = DEFAULT_TIMEOUT,
                     api: client.ApiClient | None = None) -> KubeObjects:
    """Wait until predicate(all objects matching label_selector, as dicts) holds; return them.

    For objects with generated names, e.g. a Service's EndpointSlices
    (label_selector="kubernetes.io/service-name=web").
    """
    api = api or connect()
    source = _ApiSource(api, resource_for(api, api_version, kind), namespace,
                        label_selector=label_selector)
    what = f"{kind.lower()} objects with labels {label_selector}" + (
        f" in namespace {namespace}" if namespace else "")

    def report(last: list[RawObject]) -> tuple[str, str | None]:
        return f"Last seen: {_status_json(kind, last) if last else 'none'}", None

    found = _wait(source, predicate, what=what, description=description, timeout=timeout,
                  summarize=lambda objs: f"{len(objs)} found", report=report)
    return KubeObjects(found, kind)


def wait_for_pod(namespace: str, name: str, predicate: PodPredicate, *, description: str,
                 timeout: float = DEFAULT_TIMEOUT, api: client.ApiClient | None = None) -> client.V1Pod:
    """Wait until predicate(pod) holds (it may raise WaitFailed to give up early); return the pod."""
    api = api or connect()
    source = _ApiSource(api, resource_for(api, "v1", "Pod"), namespace, name=name)
    to_pod = _PodDecoder(api)

    def report(last: list[RawObject]) -> tuple[str, str | None]:
        pod = to_pod(_only(last))
        return collect_pod_report(namespace, pod, api=api), hint_for_pod(pod)

    found = _wait(source, lambda objs: bool(objs) and predicate(to_pod(objs[0])),
                  what=f"pod/{name} in namespace {namespace}", description=description,
                  timeout=timeout, summarize=lambda objs: summarize_pod(to_pod(_only(objs))),
                  report=report)
    return to_pod(found[0])


def wait_for_ready(namespace: str, name: str, *, timeout: float = DEFAULT_TIMEOUT,
                   api: client.ApiClient | None = None) -> client.V1Pod:
    """Wait until the pod is Running with its Ready condition True."""
    def ready(pod: client.V1Pod) -> bool:
        _give_up_if_finished(pod, "ready")
        return pod.status.phase == "Running" and _condition(pod, "Ready") == "True"
    return wait_for_pod(namespace, name, ready, description="ready", timeout=timeout, api=api)


def wait_for_not_ready(namespace: str, name: str, *, timeout: float = DEFAULT_TIMEOUT,
                       api: client.ApiClient | None = None) -> client.V1Pod:
    """Wait until the pod's Ready condition is False (e.g. a readiness probe started failing)."""
    return wait_for_pod(namespace, name, lambda pod: _condition(pod, "Ready") == "False",
                        description="not ready", timeout=timeout, api=api)


def wait_for_phase(namespace: str, name: str, phase: str, *, timeout: float = DEFAULT_TIMEOUT,
                   api: client.ApiClient | None = None) -> client.V1Pod:
    """Wait until the pod's phase is phase (Pending, Running, Succeeded or Failed)."""
    def reached(pod: client.V1Pod) -> bool:
        if pod.status.phase == phase:
            return True
        _give_up_if_finished(pod, f"in phase {phase}")
        return False
    return wait_for_pod(namespace, name, reached, description=f"in phase {phase}",
                        timeout=timeout, api=api)


def wait_for_condition(namespace: str, name: str, condition_type: str, status: str = "True", *,
                       timeout: float = DEFAULT_TIMEOUT,
                       api: client.ApiClient | None = None) -> client.V1Pod:
    """Wait until the pod has condition condition_type with the given status."""
    wanted = f"{condition_type}={status}"

    def holds(pod: client.V1Pod) -> bool:
        if _condition(pod, condition_type) == status:
            return True
        _give_up_if_finished(pod, wanted)
        return False
    return wait_for_pod(namespace, name, holds, description=wanted, timeout=timeout, api=api)


def wait_for_restarts(namespace: str, name: str, at_least: int = 1, *, container: str | None = None,
                      timeout: float = DEFAULT_TIMEOUT,
                      api: client.ApiClient | None = None) -> client.V1Pod:
    """Wait until the pod's containers (or just `container`) restarted at least at_least times."""
    which = f"container {container}" if container else "its containers"
    description = f"restarted at least {at_least} time{'s' * (at_least != 1)} ({which})"

    def restarted(pod: client.V1Pod) -> bool:
        statuses = [cs for cs in pod.status.container_statuses or []
                    if container is None or cs.name == container]
        if sum(cs.restart_count for cs in statuses) >= at_least:
            return True
        _give_up_if_finished(pod, "restarted")
        return False
    return wait_for_pod(namespace, name, restarted, description=description, timeout=timeout, api=api)


def wait_for_deletion(namespace: str | None, name: str, *, kind: str = "Pod", api_version: str = "v1",
                      timeout: float = DEFAULT_TIMEOUT, api: client.ApiClient | None = None) -> None:
    """Wait until the object is gone (returns at once if it does not exist)."""
    wait_for_object(namespace, kind, name, lambda obj: obj is None, description="deleted",
                    api_version=api_version, timeout=timeout, api=api)


def _wait(source: ObjectSource, satisfied: Callable[[list[RawObject]], bool], *, what: str,
          description: str, timeout: float, summarize: Callable[[list[RawObject]], str],
          report: Callable[[list[RawObject]], tuple[str, str | None]]) -> list[RawObject]:
    started = time.monotonic()
    last: list[RawObject] = []
    with LiveStatus(f"waiting for {what} to be {description}") as status, \
            closing(observe(source, started + timeout)) as states:
        for last in states:
            status.show(summarize(last))
            try:
                if satisfied(last):
                    return last
            except WaitFailed as e:
                details, hint = report(last)
                raise WaitFailed(f"{what} will never be {description}: {e.message}\n\n{details}",
                                 hint=e.hint or hint) from None
    details, hint = report(last)
    raise WaitTimeout(f"Timed out after {timeout:.0f}s waiting for {what} to be {description}.\n\n"
                      f"{details}", hint=hint)


def _status_json(kind: str, objects: list[RawObject]) -> str:
    return "\n".join(f"{kind.lower()}/{(o.get('metadata') or {}).get('name')} status "
                     + json.dumps(o.get("status"), indent=2, default=str) for o in objects)


def _give_up_if_finished(pod: client.V1Pod, goal: str) -> None:
    if pod.status.phase in TERMINAL_PHASES:
        raise WaitFailed(f"it has {pod.status.phase.lower()} (phase {pod.status.phase}) "
                         f"and a finished pod never becomes {goal} again")


def _condition(pod: client.V1Pod, condition_type: str) -> str | None:
    for c in (pod.status.conditions if pod.status else None) or []:
        if c.type == condition_type:
            return c.status
    return None


class _PodDecoder:
    """Raw pod dicts → V1Pod models, remembering the last one (predicates see each state once)."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        self._raw: RawObject | None = None
        self._pod: client.V1Pod | None = None

    def __call__(self, raw: RawObject | None) -> client.V1Pod | None:
        if raw is None:
            return None
        if raw is not self._raw:
            self._raw, self._pod = raw, self.api.deserialize(json.dumps(raw), "V1Pod",
                                                             "application/json")
        return self._pod
