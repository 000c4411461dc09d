"""Events the control plane and the kubelet record about objects in a namespace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import api_error
from .connect import connect

_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Event:
    """One event, folded to what a reader needs: when, how bad, why, about what, how often."""

    time: datetime | None
    type: str
    reason: str
    object: str
    message: str
    count: int = 1

    def __str__(self) -> str:
        repeat = f" (x{self.count})" if self.count > 1 else ""
        return f"{self.type:<8} {self.reason:<20} {self.object}: {self.message}{repeat}"


def events(namespace: str, involved_name: str | None = None, *,
           api: client.ApiClient | None = None) -> list[Event]:
    """The namespace's events (only those about involved_name if given), oldest first."""
    selector = f"involvedObject.name={involved_name}" if involved_name else None
    try:
        listing = client.CoreV1Api(api or connect()).list_namespaced_event(
            namespace, field_selector=selector)
    except ApiException as e:
        raise api_error(e, f"listing events in namespace {namespace}") from e
    found = [event_from(item) for item in listing.items]
    return sorted(found, key=lambda e: e.time or _EPOCH)  # stable: ties keep the server's order


def event_from(item: client.CoreV1Event) -> Event:
    """Fold a core/v1 Event, old-style (count, lastTimestamp) or new-style (series, eventTime)."""
    series = item.series
    time = (item.last_timestamp or (series.last_observed_time if series else None)
            or item.event_time or item.first_timestamp or item.metadata.creation_timestamp)
    count = (series.count if series and series.count else None) or item.count or 1
    involved = item.involved_object
    what = f"{(involved.kind or '').lower()}/{involved.name}" if involved else "?"
    return Event(time=time, type=item.type or "", reason=item.reason or "", object=what,
                 message=(item.message or "").strip(), count=count)
