"""Waiting for an object to reach a state: list, then watch from that resourceVersion.

One wait, wait_until(namespace, name, condition), takes a condition value from
podlab.conditions (ready, in_phase(...), restarted(...), terminated(...), deleted, ...).
What no condition on one named object can say has one function each: wait_for_objects
(the objects a label selector matches, e.g. a Service's EndpointSlices) and wait_for_event
(an event with a reason about an object); a log line is podlab.pods.wait_for_log.

Every wait is event-driven (no polling) and bounded by a deadline: each watch asks the
server to end it when the remaining time is up, and a watch the server ends early is
resumed from the last resourceVersion seen. An expired resourceVersion (410 Gone) or a
broken stream is recovered by relisting and watching again. On failure the error shows
what the pod was doing and why (podlab.diagnostics, which reads pods through podlab.podstate).
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
from .conditions import WaitCondition
from .connect import connect
from .diagnostics import collect_pod_report, hint_for_pod
from .errors import PodlabError, WaitFailed, WaitTimeout
from .livestatus import LiveStatus
from .objects import KubeObject, KubeObjects
from .podstate import summarize_pod
from .timeouts import POD_START

RawObject = dict[str, Any]
ObjectsPredicate = Callable[[list[KubeObject]], bool]


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
    """The selected objects of one kind, from the API server, as KubeObjects."""

    def __init__(self, api: client.ApiClient, resource: Resource, namespace: str | None, *,
                 name: str | None = None, label_selector: str | None = None) -> None:
        self.api, self.path, self.resource = api, resource.path(namespace), resource
        self.query = ([("fieldSelector", f"metadata.name={name}")] if name else []) + (
            [("labelSelector", label_selector)] if label_selector else [])

    def list(self) -> tuple[list[RawObject], str]:
        reply = request_json(self.api, "GET", self.path, query=self.query)
        return [self._typed(o) for o in reply.get("items") or []], reply["metadata"]["resourceVersion"]

    def watch(self, resource_version: str, timeout_seconds: int) -> Iterator[RawObject]:
        for event in watch_events(self.api, self.path, query=self.query,
                                  resource_version=resource_version, timeout_seconds=timeout_seconds):
            if event.get("type") in ("ADDED", "MODIFIED", "DELETED") and event.get("object"):
                event = {**event, "object": self._typed(event["object"])}
            yield event

    def _typed(self, raw: RawObject) -> KubeObject:
        return KubeObject(raw, kind=self.resource.kind, api_version=self.resource.api_version)


def _only(objects: list[RawObject]) -> RawObject | None:
    return objects[0] if objects else None


def wait_until(namespace: str | None, name: str, condition: WaitCondition, *, kind: str = "Pod",
               api_version: str = "v1", timeout: float = POD_START,
               api: client.ApiClient | None = None) -> KubeObject | None:
    """Wait until condition holds for the named object (a pod unless kind says otherwise); return it.

    Returns the state that satisfied the condition (None for `deleted`). Raises WaitFailed as
    soon as the condition's give-up rule fires, and WaitTimeout at the deadline; both show
    what the object was doing (for a pod: conditions, container states, events, log tails).
    """
    api = api or connect()
    source = _ApiSource(api, resource_for(api, api_version, kind), namespace, name=name)
    is_pod = (kind, api_version) == ("Pod", "v1")

    def holds(objects: list[RawObject]) -> bool:
        obj = _only(objects)
        if condition.test(obj):
            return True
        reason = condition.give_up(obj)
        if reason:
            raise WaitFailed(reason)
        return False

    def report(last: list[RawObject]) -> tuple[str, str | None]:
        if is_pod:
            return collect_pod_report(namespace or "", _only(last), api=api), hint_for_pod(_only(last))
        return f"Last seen: {_status_json(kind, last) if last else 'absent'}", None

    def summarize(objects: list[RawObject]) -> str:
        return summarize_pod(_only(objects)) if is_pod else ("present" if objects else "absent")

    what = f"{kind.lower()}/{name}" + (f" in namespace {namespace}" if namespace else "")
    found = _wait(source, holds, what=what, description=condition.description, timeout=timeout,
                  summarize=summarize, report=report)
    return _only(found)  # type: ignore[return-value]


def wait_for_objects(namespace: str | None, kind: str, label_selector: str, predicate: ObjectsPredicate,
                     *, description: str, api_version: str = "v1", timeout: float = POD_START,
                     api: client.ApiClient | None = None) -> KubeObjects:
    """Wait until predicate(all objects matching label_selector) holds; return them.

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


def wait_for_event(namespace: str, involved_name: str, reason: str, *, timeout: float = POD_START,
                   api: client.ApiClient | None = None) -> KubeObject:
    """Wait until an event with this reason about involved_name is recorded; return the first one.

    Events are recorded asynchronously (the kubelet's and the scheduler's recorders batch them),
    so an event may appear a moment after the state change it reports.
    """
    def about(items: Iterable[Any]) -> list[Any]:
        return [e for e in items if e.involvedObject.get("name") == involved_name and e.get("reason") == reason]

    found = wait_for_objects(namespace, "Event", "", lambda items: bool(about(items)),
                             description=f"holding a {reason} event about {involved_name}",
                             timeout=timeout, api=api)
    return about(found)[0]


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
