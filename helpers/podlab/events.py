"""Events the control plane and the kubelet record about objects in a namespace, as served.

An event is a KubeObject of kind Event (core/v1), read like every other object:
`e.reason`, `e.message`, `e.involvedObject.name`, `e["count"]`. The lab's events and
wait_for_event give them; a timeline records them. What a reader often wants folded
(the last time it happened, how often, one line) is here as functions of the event.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import api_error, request_json
from .connect import connect
from .objects import KubeObject, as_object, parse_time

Event = KubeObject  # an event as served: a KubeObject of kind Event

_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


def events(namespace: str, involved_name: str | None = None, *,
           api: client.ApiClient | None = None) -> list[KubeObject]:
    """The namespace's events (only those about involved_name if given), as served, oldest first."""
    query = [("fieldSelector", f"involvedObject.name={involved_name}")] if involved_name else []
    try:
        reply = request_json(api or connect(), "GET", f"/api/v1/namespaces/{namespace}/events", query=query)
    except ApiException as e:
        raise api_error(e, f"listing events in namespace {namespace}") from e
    found = [KubeObject(item, kind="Event", api_version="v1") for item in reply.get("items") or []]
    return sorted(found, key=lambda e: event_time(e) or _EPOCH)  # stable: ties keep the server's order


def event_time(event: Any) -> datetime | None:
    """When the event last happened: old-style lastTimestamp, new-style series.lastObservedTime or eventTime."""
    e = as_object(event, kind="Event")
    series = e.get("series") or {}
    served = (e.get("lastTimestamp") or series.get("lastObservedTime") or e.get("eventTime")
              or e.get("firstTimestamp") or (e.get("metadata") or {}).get("creationTimestamp"))
    return parse_time(served)


def event_count(event: Any) -> int:
    """How often it happened: series.count (new style) or count (old style), at least 1."""
    e = as_object(event, kind="Event")
    return (e.get("series") or {}).get("count") or e.get("count") or 1


def event_line(event: Any) -> str:
    """`Warning  BackOff              pod/crash: Back-off restarting failed container (x3)`."""
    e = as_object(event, kind="Event")
    involved = e.get("involvedObject")
    what = f"{str(involved.get('kind') or '').lower()}/{involved.get('name')}" if involved else "?"
    count = event_count(e)
    repeat = f" (x{count})" if count > 1 else ""
    return f"{e.get('type') or '':<8} {e.get('reason') or '':<20} {what}: {(e.get('message') or '').strip()}{repeat}"
