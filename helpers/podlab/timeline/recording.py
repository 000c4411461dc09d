"""Recording a pod's timeline: its states and its events, watched in the background, and its containers' marks.

Recording is a watch on the pod and one on its events (podlab.waiting.observe: list, watch
from that resourceVersion, relist on 410), each in a background thread with a deadline.
start() returns once both have listed, so whatever the notebook does next is recorded (a pod
force-deleted right after start() is gone in one round trip: a list that came later would
miss it). A DELETED event's object is the pod's last state, and it is recorded too (a
graceless delete writes deletionTimestamp and removes the pod at once). stop() takes a last
look, lets both watches catch up with it and ends them. Without a
watch (record=False), snapshot() takes a look whenever the notebook calls it.

What was recorded reads as Moments (moment, names, order, duration); claims about them are
judged in podlab.timeline.claims and the figure drawn in podlab.timeline.figures, each
imported only when a claim is made or a figure drawn.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, suppress
from types import TracebackType
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .._api import api_error, request_json, watch_events
from ..checks import Check
from ..connect import connect
from ..errors import PodlabError
from ..objects import as_object
from ..waiting import observe
from .moments import Moment, Raw, can_precede, event_moments, merge, parse_marks, pod_moments

RECORDING = 900.0  # how long a timeline records at most (seconds), unless stop() comes first
SETTLE = 10.0      # stop(): how long the watches may take to catch up with the last look
LISTED = 30.0      # start(): how long the watches may take to list
WINDOW = 5         # each watch request's length (s): a stopped recording's threads end within it


class _Stopped(Exception):
    """The timeline stopped recording: end the watch."""


class _Source:
    """The pod, or the events about it: list, and watch in windows of WINDOW seconds so a stop is heard."""

    def __init__(self, api: client.ApiClient, path: str, selector: str, stopping: threading.Event,
                 deleted: Callable[[Raw], None] = lambda obj: None) -> None:
        self.api, self.path, self.query, self.stopping = api, path, [("fieldSelector", selector)], stopping
        self.deleted = deleted  # called with a DELETED event's object: the last state, which observe drops

    def list(self) -> tuple[list[dict[str, Any]], str]:
        try:
            reply = request_json(self.api, "GET", self.path, query=self.query)
        except ApiException as e:
            raise api_error(e, f"listing {self.path} ({self.query[0][1]})") from None
        return reply.get("items") or [], reply["metadata"]["resourceVersion"]

    def watch(self, resource_version: str, timeout_seconds: int) -> Iterator[dict[str, Any]]:
        if self.stopping.is_set():
            raise _Stopped
        for event in watch_events(self.api, self.path, query=self.query, resource_version=resource_version,
                                  timeout_seconds=min(timeout_seconds, WINDOW)):
            if event.get("type") == "DELETED" and event.get("object"):
                self.deleted(event["object"])
            yield event


def _version(obj: Raw) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("uid") or ""), str(meta.get("resourceVersion") or f"id {id(obj)}")  # hand-made: no rv


class Timeline:
    """The moments of one pod's life, recorded from its status, its events and its containers' marks."""

    def __init__(self, namespace: str, pod: str, *, marks: str | None = None, record: bool = True,
                 timeout: float = RECORDING, api: client.ApiClient | None = None) -> None:
        self.namespace, self.pod = namespace, pod
        self._api = api
        self._lock = threading.Condition()
        self._pods: dict[tuple[str, str], Raw] = {}    # every state seen, by (uid, resourceVersion)
        self._events: dict[tuple[str, str], Raw] = {}  # every version of every event seen
        self._marks: list[Moment] = []
        self._removed: float | None = None
        self._watched: set[tuple[str, str, str]] = set()  # what the watches delivered: (kind, uid, rv)
        self._watch_sees_pod = False
        self._live: set[str] = set()                   # the watches still running
        self._listed: set[str] = set()                 # the watches that have made their first list
        self._failures: list[BaseException] = []
        self._stopping = threading.Event()
        self._ran_out = False
        self._stopped = False
        self.checks: list[Check] = []  # what its claims found (podlab.timeline.claims)
        if marks:
            self.add_marks(marks)
        if record:
            self.start(timeout)

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "recording" if self._live else "not recording"
        return f"timeline of pod/{self.pod} ({state})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    @property
    def api(self) -> client.ApiClient:
        """The API client (connected on first use)."""
        if self._api is None:
            self._api = connect()
        return self._api

    # -- recording ----------------------------------------------------------------------------

    def start(self, timeout: float = RECORDING) -> Timeline:
        """Watch the pod and its events in the background until stop() or timeout seconds pass."""
        if self._live or self._stopped:
            raise PodlabError(f"The timeline of pod/{self.pod} is already recording or has stopped.",
                              hint="Make a new one: lab.timeline(pod).")
        deadline = time.monotonic() + timeout
        for kind, source in (("pod", self._pod_source()), ("event", self._event_source())):
            self._live.add(kind)
            threading.Thread(target=self._follow, args=(kind, source, deadline),
                             name=f"podlab-timeline-{kind}-{self.pod}", daemon=True).start()
        with self._lock:  # recording has begun only once both watches have listed
            self._lock.wait_for(lambda: self._failures or self._listed >= {"pod", "event"}, timeout=LISTED)
            failures, listed = list(self._failures), set(self._listed)
        if failures or listed < {"pod", "event"}:
            self._stopping.set()
            cause = f": {failures[0]}" if failures else f" within {LISTED:.0f} s"
            raise PodlabError(f"The timeline of pod/{self.pod} could not start recording{cause}",
                              hint="Check the cluster with `podlab status`, then make a new timeline.")
        return self

    def snapshot(self) -> Timeline:
        """Record the pod and its events as the API server has them now."""
        pods, events = self._look()
        self._saw("pod", pods, watched=False)
        self._saw("event", events, watched=False)
        return self

    def stop(self) -> Timeline:
        """Take a last look, let the watches catch up with it, end them; raise if a watch failed."""
        if self._stopped:
            return self
        try:
            pods, events = self._look()
            with self._lock:
                self._lock.wait_for(lambda: self._caught_up(pods, events), timeout=SETTLE)
            self._saw("pod", pods, watched=False)
            self._saw("event", events, watched=False)
        finally:  # the watches end even when the last look failed
            with self._lock:
                self._stopped = True
                self._stopping.set()
                failures, ran_out = list(self._failures), self._ran_out
        if ran_out:
            print(f"podlab: the timeline of pod/{self.pod} stopped recording at its deadline, before "
                  "stop(); later moments come from stop()'s last look only (pass a longer timeout)",
                  file=sys.stderr)
        if failures:
            raise PodlabError(f"Recording the timeline of pod/{self.pod} failed: {failures[0]}",
                              hint="Its moments may be incomplete; record again.") from failures[0]
        return self

    def __enter__(self) -> Timeline:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.stop()
            return
        with suppress(Exception):  # the block's own error is the one to see
            self.stop()

    def add_marks(self, text: str, *, source: str = "marks") -> Timeline:
        """Add marks: `<unix time> <label>` lines, e.g. lab.read_file(pod, "/marks/log") or a node file."""
        found = parse_marks(text, source=source)
        with self._lock:
            self._marks += found
        return self

    def add_pod_state(self, pod: Raw) -> Timeline:
        """Add one state of the pod (its JSON, e.g. lab.pod(name)), as the recording does."""
        self._saw("pod", [pod], watched=False)
        return self

    def add_event(self, event: Raw) -> Timeline:
        """Add one version of an event about the pod (core/v1 or events.k8s.io/v1 JSON)."""
        self._saw("event", [event], watched=False)
        return self

    def _pod_source(self) -> _Source:
        return _Source(self.api, f"/api/v1/namespaces/{self.namespace}/pods",
                       f"metadata.name={self.pod}", self._stopping, self._saw_deleted)

    def _event_source(self) -> _Source:
        return _Source(self.api, f"/api/v1/namespaces/{self.namespace}/events",
                       f"involvedObject.kind=Pod,involvedObject.name={self.pod}", self._stopping)

    def _look(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return self._pod_source().list()[0], self._event_source().list()[0]

    def _follow(self, kind: str, source: _Source, deadline: float) -> None:
        try:
            with closing(observe(source, deadline)) as states:
                for objects in states:
                    if self._stopping.is_set():
                        return
                    self._saw(kind, objects, watched=True)
                    with self._lock:
                        self._listed.add(kind)
                        self._lock.notify_all()
            with self._lock:
                self._ran_out = True
        except _Stopped:
            pass
        except Exception as e:  # reported by stop()
            with self._lock:
                self._failures.append(e)
        finally:
            with self._lock:
                self._live.discard(kind)
                self._lock.notify_all()

    def _saw(self, kind: str, objects: Sequence[Raw], *, watched: bool) -> None:
        """Record what a look or a watch (watched) saw of the pod ("pod") or its events ("event")."""
        with self._lock:
            if self._stopped:
                return
            self._keep(kind, self._pods if kind == "pod" else self._events, objects, watched)
            if kind == "pod" and watched:
                self._watch_sees_pod = bool(objects)
            if kind == "pod" and not objects and self._pods and self._removed is None:
                self._removed = time.time()
            self._lock.notify_all()

    def _saw_deleted(self, pod: Raw) -> None:
        """Record the last state of the pod, as a watch's DELETED event carries it."""
        with self._lock:
            if not self._stopped:
                self._keep("pod", self._pods, [pod], watched=True)

    def _keep(self, kind: str, store: dict, objects: Sequence[Raw], watched: bool) -> None:
        """Keep the first copy of each version seen, and note the ones a watch delivered (called holding the lock)."""
        for obj in objects:
            key = _version(obj)
            store.setdefault(key, as_object(obj, kind="Pod" if kind == "pod" else "Event"))  # one shape: KubeObjects
            if watched:
                self._watched.add((kind, *key))

    def _caught_up(self, pods: Sequence[Raw], events: Sequence[Raw]) -> bool:
        """Whether each running watch has delivered what the last look saw (called holding the lock)."""
        pods_ok = "pod" not in self._live or (
            all(("pod", *_version(p)) in self._watched for p in pods) if pods else not self._watch_sees_pod)
        events_ok = "event" not in self._live or all(("event", *_version(e)) in self._watched for e in events)
        return pods_ok and events_ok

    # -- reading ------------------------------------------------------------------------------

    def moments(self) -> list[Moment]:
        """Every moment recorded so far, oldest first."""
        with self._lock:
            pods, events, marks, removed = list(self._pods.values()), list(self._events.values()), \
                list(self._marks), self._removed
        uids = {str((p.get("metadata") or {}).get("uid")) for p in pods if (p.get("metadata") or {}).get("uid")}
        found = pod_moments(pods) + event_moments(events, uids=uids) + marks
        if removed is not None:
            found.append(Moment("removed", removed, 0.0, "pod", "when the recording saw the pod gone"))
        return merge(found)

    def moment(self, name: str) -> Moment:
        """The moment called name (its first occurrence; "name#2" for the second, ...)."""
        label, _, nth = name.partition("#")
        matches = [m for m in self.moments() if m.label == label]
        index = 0 if not nth else int(nth) - 1 if nth.isdigit() else -1
        if not 0 <= index < len(matches):
            raise PodlabError(f"The timeline of pod/{self.pod} has no moment {name!r}.",
                              hint=f"Its moments: {', '.join(self.names()) or 'none yet'}.")
        return matches[index]

    def names(self) -> list[str]:
        """The names of the moments recorded, oldest first (repeats as name#2, name#3, ...)."""
        counts: dict[str, int] = {}
        found = []
        for m in self.moments():
            counts[m.label] = counts.get(m.label, 0) + 1
            found.append(m.label if counts[m.label] == 1 else f"{m.label}#{counts[m.label]}")
        return found

    def order(self, first: str, second: str) -> bool:
        """Whether first can have happened no later than second (same-second moments: either way)."""
        return can_precede(self.moment(first), self.moment(second))

    def duration(self, first: str, second: str) -> float:
        """Seconds from first to second, from the middle of each moment's resolution."""
        return self.moment(second).middle - self.moment(first).middle

    # -- claims (judged in podlab.timeline.claims, imported only when a claim is made) --------

    def expect_seen(self, *names: str) -> None:
        """Claim each named moment was recorded; prints `✓ seen: A, B, C`."""
        from .claims import expect_seen
        expect_seen(self, *names)

    def expect_order(self, *names: str) -> None:
        """Claim the moments happened in this order; prints `✓ A before B`, or `? …` when the clocks cannot tell."""
        from .claims import expect_order
        expect_order(self, *names)

    def expect_between(self, first: str, second: str, low: float, high: float) -> None:
        """Claim the time from first to second lies in [low, high] s; prints what was measured, unclamped."""
        from .claims import expect_between
        expect_between(self, first, second, low, high)

    def summary(self) -> None:
        """Print the claims checked so far, one stable line each (no timestamps: measurements masked)."""
        from .claims import summary
        summary(self)

    # -- the figure (drawn in podlab.timeline.figures, imported only to draw) -------------------

    def plot(self, *, title: str | None = None) -> Any:
        """One figure of every moment (seconds since the first on x, one row per source); returns it."""
        from .figures import plot_moments
        return plot_moments(self.moments(), title=title or f"pod/{self.pod}")
