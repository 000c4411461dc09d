"""A pod's timeline: when its status, its events and its containers' own marks say things happened.

    tl = lab.timeline("hooks")                  # records the pod and its events from now on
    lab.apply("05-hooks/hooks.yaml")
    lab.wait("hooks", podlab.ready)
    lab.delete("hooks")                         # gone from the API; the timeline kept what it saw
    tl.stop()
    tl.expect_order("deletion requested", "preStop-start", "app exited")
    tl.expect_between("deletion requested", "app exited", 0, 3)
    tl.plot()

Recording is a watch on the pod and one on its events (podlab.waiting.observe: list, watch
from that resourceVersion, relist on 410), each in a background thread with a deadline;
stop() takes a last look, lets both watches catch up with it and ends them. Without a
watch (record=False), snapshot() takes a look whenever the notebook calls it.

Moments, by name (a second occurrence of a name is "name#2", and so on):
  pod         created, deletion requested (deletionTimestamp minus deletionGracePeriodSeconds, as
              first seen: the API server sets the timestamp to request + grace period), grace
              period ends (that deletionTimestamp), removed (when the watch saw the pod gone:
              this machine's clock), and each condition turning True under its type (PodScheduled,
              Initialized, PodReadyToStartContainers, ContainersReady, Ready), or False after it
              had been True as type=False (Ready=False)
  container   "<name> running" (startedAt) and "<name> exited" (finishedAt, exit code), for the
              current run and the one before a restart (lastState)
  events      each event's reason (Scheduled, Pulled, Created, Started, Killing, Unhealthy,
              FailedPostStartHook, FailedPreStopHook, BackOff, ...): when it first happened and,
              for repeated events, each later occurrence the recording saw
  marks       `<unix time> <label>` lines: from each container's termination message (kubelet
              copies /dev/termination-log into the status when the container ends, so marks
              written by the hooks and a SIGTERM trap outlive the pod), and add_marks(text)

Resolution: a Moment lies in [time, time + resolution). Pod times, container times and
condition transitions are RFC 3339 without a fraction, truncated to the second. Events carry
firstTimestamp/lastTimestamp (seconds) and, when the reporter sets it, eventTime or
series.lastObservedTime (events.k8s.io/v1 MicroTime, microseconds); on Kubernetes 1.37 the
kubelet and the scheduler both leave eventTime empty, so pod events have whole seconds.
Marks have the digits written (MARK_SHELL writes microseconds). So comparisons allow what the
resolution allows: `order(a, b)` holds when a can have happened no later than b (two moments
of the same second are in either order). A claim has three outcomes. expect_order passes when
each moment certainly came no later than the next (its whole interval ends before the next one
begins), fails when the order was certainly the other way, and is undecided otherwise (two
events of the same second): printed `?`, never `✓`. expect_between prints what was observed,
unclamped: one figure when both moments have sub-second resolution, else the range of durations
the resolutions allow ("between 7.0 and 8.0 s"); it passes when that whole range lies in the
bound, fails when it lies wholly outside, and is undecided when it straddles an end of the
bound. tests/nbval-sanitize.cfg masks the figures and the ✓/? of a claim line, so stored
outputs show the run's real outcome while a certain failure still raises. All clocks are the
node's or the control plane's: on the lab's single-node clusters (kind, local) that is this
machine's clock.
"""

from __future__ import annotations

import io
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import api_error, request_json, watch_events
from .checks import FAILED, PASSED, UNDECIDED, Check, record
from .connect import connect
from .errors import PodlabError
from .waiting import observe

RECORDING = 900.0  # how long a timeline records at most (seconds), unless stop() comes first
SETTLE = 10.0      # stop(): how long the watches may take to catch up with the last look
WINDOW = 5         # each watch request's length (s): a stopped recording's threads end within it
TERMINATION_LOG = "/dev/termination-log"
FINEST = 1e-6      # finer digits are kept but no finer resolution claimed (floats of unix time)
KILLED = 137       # exit code of a process ended by SIGKILL (128 + 9)

Raw = Mapping[str, Any]


def mark_shell(path: str = TERMINATION_LOG) -> str:
    """A busybox shell function `mark LABEL` that appends `<unix time, microseconds> LABEL` to path."""
    # busybox date has no %N (FEATURE_DATE_NANO is off in defconfig, Debian's and Docker Hub's
    # builds): `date +%s.%N` prints a literal %N. The adjtimex applet (read-only without options,
    # no privilege needed) prints the kernel's clock as time.tv_sec and time.tv_usec; tv_usec
    # holds nanoseconds when the status has STA_NANO (0x2000, bit 13), e.g. under some NTP daemons.
    return ("mark() { adjtimex | awk -v l=\"$1\" '/status:/{st=$2} /tv_sec:/{s=$2} /tv_usec:/{u=$2} "
            "END{printf (int(st/8192)%2 ? \"%d.%09d %s\\n\" : \"%d.%06d %s\\n\"), s, u, l}' >> "
            f"{path}; }}")


MARK_SHELL = mark_shell()
"""Paste into a container's or hook's `sh -c` script, then `mark entrypoint-start`, `mark sigterm`, ..."""


@dataclass(frozen=True)
class Moment:
    """Something that happened: a label, when (unix seconds, lying in [time, time + resolution)), and where."""

    label: str
    time: float
    resolution: float
    source: str       # the figure's row: "container app", "pod", "events", "marks app", "marks"
    detail: str = ""

    @property
    def middle(self) -> float:
        """The best single estimate of when it happened: the middle of its resolution."""
        return self.time + self.resolution / 2


# -- parsing -----------------------------------------------------------------------------------

_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")
_MARK = re.compile(r"^(\d+)(?:\.(\d+))?\s+(\S.*?)\s*$")


def parse_time(value: str) -> tuple[float, float]:
    """(unix seconds, resolution) of an API time: RFC 3339, whole seconds (1.0) or with a fraction."""
    found = _RFC3339.match(value.strip())
    if found is None:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    zone = timezone.utc
    if found[3] != "Z":
        sign = -1 if found[3][0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(found[3][1:3]), minutes=int(found[3][4:6])))
    seconds = datetime.strptime(found[1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=zone).timestamp()
    return _with_fraction(seconds, found[2])


def _with_fraction(seconds: float, fraction: str | None) -> tuple[float, float]:
    if not fraction:
        return seconds, 1.0
    return seconds + int(fraction) / 10 ** len(fraction), max(10.0 ** -len(fraction), FINEST)


def parse_marks(text: str, *, source: str = "marks", strict: bool = True) -> list[Moment]:
    """Marks from `<unix time> <label>` lines; a line that is not one raises ValueError (strict) or is skipped."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        mark = _MARK.match(line.strip())
        if mark is None:
            if not strict:
                continue
            why = (" (busybox `date` has no %N: write marks with podlab.timing.MARK_SHELL)" if "%N" in line else "")
            raise ValueError(f"line {number} is not `<unix time> <label>`: {line!r}{why}")
        when, resolution = _with_fraction(float(mark[1]), mark[2])
        found.append(Moment(mark[3], when, resolution, source))
    return found


# -- moments from pod states and events ------------------------------------------------------------

def _at(label: str, value: Any, source: str, detail: str = "") -> list[Moment]:
    if not value:
        return []
    when, resolution = parse_time(str(value))
    return [Moment(label, when, resolution, source, detail)]


def _exit_detail(terminated: Raw) -> str:
    code = terminated.get("exitCode")
    parts = [f"exit code {code}"]
    if terminated.get("signal"):
        parts.append(f"signal {terminated['signal']}")
    if code == KILLED:
        parts.append("SIGKILL")
    if terminated.get("reason"):
        parts.append(str(terminated["reason"]))
    return ", ".join(parts)


def _ordered(states: Iterable[Raw]) -> list[Raw]:
    """States oldest first: by resourceVersion when all are numbers (etcd revisions), else as given."""
    states = list(states)
    versions = [str((s.get("metadata") or {}).get("resourceVersion") or "") for s in states]
    if all(v.isdigit() for v in versions):
        return [s for _, s in sorted(zip(map(int, versions), states), key=lambda p: p[0])]
    return states


def pod_moments(states: Iterable[Raw]) -> list[Moment]:
    """The moments a pod's successive states (JSON dicts) show, merged and oldest first."""
    found: list[Moment] = []
    been_true: set[str] = set()
    deletion_seen = False
    for state in _ordered(states):
        meta, status = state.get("metadata") or {}, state.get("status") or {}
        found += _at("created", meta.get("creationTimestamp"), "pod")
        if meta.get("deletionTimestamp") and not deletion_seen:
            deletion_seen = True  # later states may carry a shortened grace period (the kubelet's final delete)
            grace = int(meta.get("deletionGracePeriodSeconds") or 0)
            deadline, resolution = parse_time(meta["deletionTimestamp"])
            found.append(Moment("deletion requested", deadline - grace, resolution, "pod",
                                f"grace period {grace} s"))
            if grace:
                found.append(Moment("grace period ends", deadline, resolution, "pod"))
        for condition in status.get("conditions") or []:
            kind, value = condition.get("type", "?"), condition.get("status")
            if value == "True":
                been_true.add(kind)
                label = kind
            elif kind in been_true:
                label = f"{kind}={value}"
            else:
                continue  # not yet True: how the pod started, not a moment
            found += _at(label, condition.get("lastTransitionTime"), "pod", condition.get("reason") or "")
        for cs in ((status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
                   + (status.get("ephemeralContainerStatuses") or [])):
            found += _container_moments(cs)
    return merge(found)


def _container_moments(cs: Raw) -> list[Moment]:
    name = cs.get("name", "?")
    row = f"container {name}"
    found: list[Moment] = []
    for state in (cs.get("lastState") or {}, cs.get("state") or {}):
        running, ended = state.get("running") or {}, state.get("terminated") or {}
        found += _at(f"{name} running", running.get("startedAt") or ended.get("startedAt"), row)
        if ended:
            found += _at(f"{name} exited", ended.get("finishedAt"), row, _exit_detail(ended))
            found += parse_marks(ended.get("message") or "", source=f"marks {name}", strict=False)
    return found


def event_moments(events: Iterable[Raw], *, uids: Iterable[str] = ()) -> list[Moment]:
    """Moments of core/v1 or events.k8s.io/v1 events (about the pods with these uids, if given), oldest first."""
    wanted = set(uids)
    found: list[Moment] = []
    for event in events:
        about = event.get("involvedObject") or event.get("regarding") or {}
        if about.get("kind", "Pod") != "Pod" or (wanted and about.get("uid") and about["uid"] not in wanted):
            continue
        reason = event.get("reason") or "?"
        detail = str(event.get("message") or event.get("note") or "").strip()
        series = event.get("series") or {}
        first = (event.get("eventTime") or event.get("firstTimestamp") or event.get("deprecatedFirstTimestamp")
                 or (event.get("metadata") or {}).get("creationTimestamp"))
        last = (series.get("lastObservedTime") or event.get("lastTimestamp")
                or event.get("deprecatedLastTimestamp"))
        count = int(series.get("count") or event.get("count") or event.get("deprecatedCount") or 1)
        found += _at(reason, first, "events", detail)
        if count > 1:
            found += _at(reason, last, "events", f"{detail} (x{count})")
    return merge(found)


def merge(moments: Iterable[Moment]) -> list[Moment]:
    """Moments without repeats (same source, label and time), oldest first (ties keep their order)."""
    seen: dict[tuple[str, str, float], Moment] = {}
    for moment in moments:
        seen.setdefault((moment.source, moment.label, moment.time), moment)
    return sorted(seen.values(), key=lambda m: m.time)


def can_precede(first: Moment, second: Moment) -> bool:
    """Whether first can have happened no later than second, given both resolutions."""
    return first.time < second.time + second.resolution or first.time <= second.time


def surely_precedes(first: Moment, second: Moment) -> bool:
    """Whether first happened no later than second at every time both resolutions allow."""
    return first.time + first.resolution <= second.time


def duration_range(first: Moment, second: Moment) -> tuple[float, float]:
    """The shortest and longest time from first to second that the resolutions allow."""
    return second.time - first.time - first.resolution, second.time + second.resolution - first.time


POINT = 0.01  # a duration range narrower than this is printed as one figure


def measured_text(first: Moment, second: Moment) -> str:
    """What was measured from first to second, unclamped: '7.52 s', or 'between 7.0 and 8.0 s' at whole seconds."""
    shortest, longest = duration_range(first, second)
    if longest - shortest < POINT:
        return f"{second.middle - first.middle:.2f} s"
    return f"between {shortest:.2f} and {longest:.2f} s"


def _span(m: Moment) -> str:
    return f"{m.label}: a whole second" if m.resolution >= 1 else f"{m.label}: {m.resolution:g} s"


# -- recording ------------------------------------------------------------------------------------

class _Stopped(Exception):
    """The timeline stopped recording: end the watch."""


class _Source:
    """The pod, or the events about it: list, and watch in windows of WINDOW seconds so a stop is heard."""

    def __init__(self, api: client.ApiClient, path: str, selector: str, stopping: threading.Event) -> None:
        self.api, self.path, self.query, self.stopping = api, path, [("fieldSelector", selector)], stopping

    def list(self) -> tuple[list[dict[str, Any]], str]:
        try:
            reply = request_json(self.api, "GET", self.path, query=self.query)
        except ApiException as e:
            raise api_error(e, f"listing {self.path} ({self.query[0][1]})") from None
        return reply.get("items") or [], reply["metadata"]["resourceVersion"]

    def watch(self, resource_version: str, timeout_seconds: int) -> Iterator[dict[str, Any]]:
        if self.stopping.is_set():
            raise _Stopped
        yield from watch_events(self.api, self.path, query=self.query, resource_version=resource_version,
                                timeout_seconds=min(timeout_seconds, WINDOW))


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
        self._failures: list[BaseException] = []
        self._stopping = threading.Event()
        self._ran_out = False
        self._stopped = False
        self._claims: list[Check] = []
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
        for kind, source, saw in (("pod", self._pod_source(), self._saw_pods),
                                  ("event", self._event_source(), self._saw_events)):
            self._live.add(kind)
            threading.Thread(target=self._follow, args=(kind, source, saw, deadline),
                             name=f"podlab-timeline-{kind}-{self.pod}", daemon=True).start()
        return self

    def snapshot(self) -> Timeline:
        """Record the pod and its events as the API server has them now."""
        pods, events = self._look()
        self._saw_pods(pods, watched=False)
        self._saw_events(events, watched=False)
        return self

    def stop(self) -> Timeline:
        """Take a last look, let the watches catch up with it, end them; raise if a watch failed."""
        if self._stopped:
            return self
        try:
            pods, events = self._look()
            with self._lock:
                self._lock.wait_for(lambda: self._caught_up(pods, events), timeout=SETTLE)
            self._saw_pods(pods, watched=False)
            self._saw_events(events, watched=False)
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
        self._saw_pods([pod], watched=False)
        return self

    def add_event(self, event: Raw) -> Timeline:
        """Add one version of an event about the pod (core/v1 or events.k8s.io/v1 JSON)."""
        self._saw_events([event], watched=False)
        return self

    def _pod_source(self) -> _Source:
        return _Source(self.api, f"/api/v1/namespaces/{self.namespace}/pods",
                       f"metadata.name={self.pod}", self._stopping)

    def _event_source(self) -> _Source:
        return _Source(self.api, f"/api/v1/namespaces/{self.namespace}/events",
                       f"involvedObject.kind=Pod,involvedObject.name={self.pod}", self._stopping)

    def _look(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return self._pod_source().list()[0], self._event_source().list()[0]

    def _follow(self, kind: str, source: _Source, saw: Callable[..., None], deadline: float) -> None:
        try:
            with closing(observe(source, deadline)) as states:
                for objects in states:
                    if self._stopping.is_set():
                        return
                    saw(objects, watched=True)
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

    def _saw_pods(self, objects: Sequence[Raw], *, watched: bool) -> None:
        with self._lock:
            if self._stopped:
                return
            for obj in objects:
                key = _version(obj)
                self._pods.setdefault(key, obj)
                if watched:
                    self._watched.add(("pod", *key))
            if watched:
                self._watch_sees_pod = bool(objects)
            if not objects and self._pods and self._removed is None:
                self._removed = time.time()
            self._lock.notify_all()

    def _saw_events(self, objects: Sequence[Raw], *, watched: bool) -> None:
        with self._lock:
            if self._stopped:
                return
            for obj in objects:
                key = _version(obj)
                self._events.setdefault(key, obj)
                if watched:
                    self._watched.add(("event", *key))
            self._lock.notify_all()

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

    # -- claims -------------------------------------------------------------------------------

    def expect_seen(self, *names: str) -> None:
        """Claim each named moment was recorded; prints `✓ seen: A, B, C`."""
        missing = [n for n in names if not self._has(n)]
        if missing:
            self._fail(f"seen: {', '.join(names)}: missing {', '.join(missing)}")
        self._passed(f"seen: {', '.join(names)}")

    def expect_order(self, *names: str) -> None:
        """Claim the moments happened in this order; prints `✓ A before B`, or `? …` when the clocks cannot tell."""
        if len(names) < 2:
            raise ValueError("expect_order needs at least two moment names")
        claim = " before ".join(names)
        found = self._claimed(claim, names)
        unsure = []
        for a, b, ma, mb in zip(names, names[1:], found, found[1:]):
            if not can_precede(ma, mb):
                self._fail(f"{claim}: {a} came {ma.time - mb.time:.3f} s after {b} "
                           f"({self._when(ma)}; {self._when(mb)})")
            if not surely_precedes(ma, mb):
                unsure.append(f"{a} and {b} overlap at their clocks' resolution ({_span(ma)}; {_span(mb)})")
        if unsure:
            self._undecided(f"{claim} (undecided: {'; '.join(unsure)})")
        else:
            self._passed(claim)

    def expect_between(self, first: str, second: str, low: float, high: float) -> None:
        """Claim the time from first to second lies in [low, high] s; prints what was measured, unclamped."""
        if not 0 <= low <= high:
            raise ValueError(f"need 0 <= low <= high, got [{low}, {high}]: to bound b before a, "
                             "swap the two moments")
        claim = f"{first} → {second} within [{low:g}, {high:g}] s"
        a, b = self._claimed(claim, (first, second))
        shortest, longest = duration_range(a, b)
        observed = measured_text(a, b)
        if shortest > high or longest < low:
            self._fail(f"{claim}: measured {observed} ({self._when(a)}; {self._when(b)})")
        if low <= shortest and longest <= high:
            self._passed(f"{claim} (measured: {observed}, inside the bound)")
        else:
            self._undecided(f"{claim} (measured: {observed}, partly outside the bound: undecided)")

    def summary(self) -> None:
        """Print the claims checked so far, one stable line each (no timestamps: measurements masked)."""
        if not self._claims:
            print(f"timeline of pod/{self.pod}: no claims checked (expect_seen, expect_order, expect_between)")
            return
        print(f"timeline of pod/{self.pod}: {len(self._claims)} claim{'s' * (len(self._claims) != 1)}")
        for check in self._claims:
            print(check.line())

    def _has(self, name: str) -> bool:
        try:
            self.moment(name)
        except PodlabError:
            return False
        return True

    def _claimed(self, claim: str, names: Sequence[str]) -> list[Moment]:
        missing = [n for n in names if not self._has(n)]
        if missing:
            self._fail(f"{claim}: no moment {', '.join(map(repr, missing))}; "
                       f"recorded: {', '.join(self.names()) or 'none'}")
        return [self.moment(n) for n in names]

    def _when(self, m: Moment) -> str:
        moments = self.moments()
        start = moments[0].time if moments else m.time
        return f"{m.label} at +{m.time - start:.3f} s, resolution {m.resolution:g} s"

    def _passed(self, claim: str) -> None:
        self._claims.append(record(Check(claim, PASSED, source=f"timeline of pod/{self.pod}")))

    def _undecided(self, claim: str) -> None:
        # an order or bound the clocks' resolution cannot decide: recorded as such, never passed
        self._claims.append(record(Check(claim, UNDECIDED, source=f"timeline of pod/{self.pod}")))

    def _fail(self, claim: str) -> None:
        check = record(Check(claim, FAILED, source=f"timeline of pod/{self.pod}"))
        raise AssertionError(check.line())

    # -- the figure ---------------------------------------------------------------------------

    def plot(self, *, title: str | None = None) -> Any:
        """One figure of every moment (seconds since the first on x, one row per source); returns it."""
        return plot_moments(self.moments(), title=title or f"pod/{self.pod}")


# -- drawing ----------------------------------------------------------------------------------------

_PAIRS = (("-start", "-end"), (" start", " end"))
_COLORS = {"container": "tab:blue", "pod": "tab:green", "events": "tab:orange", "marks": "tab:purple"}


def rows(moments: Sequence[Moment]) -> list[str]:
    """The figure's rows, top to bottom: containers, pod, events, marks."""
    def rank(source: str) -> tuple[int, str]:
        kind = source.split(" ")[0]
        return (["container", "pod", "events", "marks"].index(kind) if kind in _COLORS else 4, source)
    return sorted({m.source for m in moments}, key=rank)


def spans(moments: Sequence[Moment]) -> list[tuple[str, str, Moment, Moment | None]]:
    """(row, name, start, end or None while running): container runs, the grace period, paired marks."""
    found: list[tuple[str, str, Moment, Moment | None]] = []
    open_: dict[tuple[str, str], list[Moment]] = {}
    for m in moments:
        start_of = end_of = None
        if m.label.endswith(" running"):
            start_of = m.label[:-len(" running")]
        elif m.label.endswith(" exited"):
            end_of = m.label[:-len(" exited")]
        elif m.label == "deletion requested":
            start_of = "grace period"
        elif m.label == "grace period ends":
            end_of = "grace period"
        for start, end in _PAIRS:
            if m.label.endswith(start):
                start_of = m.label[:-len(start)]
            elif m.label.endswith(end):
                end_of = m.label[:-len(end)]
        if start_of is not None:
            open_.setdefault((m.source, start_of), []).append(m)
        elif end_of is not None and open_.get((m.source, end_of)):
            found.append((m.source, end_of, open_[(m.source, end_of)].pop(0), m))
    for (row, name), starts in open_.items():  # a container still running; an unpaired mark is no span
        found += [(row, name, start, None) for start in starts if row.startswith("container ")]
    return found


_figure_class: type | None = None  # made on first use, so that matplotlib loads only when plotting


def _figure(title: str) -> Any:
    global _figure_class
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PodlabError("Drawing a timeline needs matplotlib, which is not installed.",
                          hint="pip install matplotlib (in the environment of this kernel).") from None
    if _figure_class is None:
        class TimelineFigure(Figure):
            """A figure that shows in a notebook as a PNG (with or without pyplot), and repr's stably."""

            def __repr__(self) -> str:
                return f"<timeline figure: {self.get_label()}>"

            def _repr_png_(self) -> bytes:
                buffer = io.BytesIO()
                self.savefig(buffer, format="png", bbox_inches="tight")
                return buffer.getvalue()
        _figure_class = TimelineFigure
    figure = _figure_class(figsize=(11, 4), layout="constrained")
    FigureCanvasAgg(figure)  # draws without a display or pyplot: any backend setting is fine
    figure.set_label(title)
    return figure


def plot_moments(moments: Sequence[Moment], *, title: str = "timeline") -> Any:
    """A matplotlib Figure of the moments: x is seconds since the first, one row per source."""
    figure = _figure(title)
    axes = figure.add_subplot()
    if not moments:
        axes.set_title(f"{title}: no moments recorded")
        return figure
    start = moments[0].time
    end = max(m.time + m.resolution for m in moments) - start
    order = rows(moments)
    figure.set_size_inches(11, 1.6 + 1.3 * len(order))
    y = {row: len(order) - 1 - i for i, row in enumerate(order)}
    for row, name, first, last in spans(moments):
        right = (last.time if last else start + end) - start
        axes.broken_barh([(first.time - start, max(right - (first.time - start), 0.02))], (y[row] - 0.18, 0.36),
                         facecolors=_color(row), alpha=0.18, edgecolors=_color(row))
        axes.text((first.time - start + right) / 2, y[row] - 0.1, name, ha="center", va="center", fontsize=7,
                  color=_color(row))  # inside the bar, below the points: labels rise above them
    gap = max(end, 1.0) / 40  # labels closer than this to the previous one in the row are stacked
    previous: dict[str, tuple[float, int]] = {}
    for source, x, group in _same_time_groups(moments, start):
        first = group[0]
        if first.resolution >= 0.05:  # show the second a whole-second moment may lie in
            axes.plot([x, x + first.resolution], [y[source]] * 2, color=_color(source), linewidth=3, alpha=0.35,
                      solid_capstyle="butt")
        axes.plot([x], [y[source]], marker="o", markersize=4, color=_color(source))
        last_x, level = previous.get(source, (float("-inf"), -1))
        level = level + 1 if x - last_x < gap else 0
        previous[source] = (x, level)
        # moments at the same time share one label, so that they never print over each other
        axes.annotate(", ".join(_label(m) for m in group), (x, y[source]), xytext=(2, 5 + 11 * (level % 5)),
                      textcoords="offset points", rotation=25, fontsize=7, ha="left", va="bottom")
    axes.set_yticks(list(y.values()), list(y.keys()))
    axes.set_ylim(-0.6, len(order) - 0.1)
    axes.set_xlim(-0.02 * max(end, 1.0), max(end, 1.0) * 1.08)
    axes.set_xlabel(f"seconds since {moments[0].label}  (a pale line after a point: the second in which "
                    "a whole-second time lies)", fontsize=9)
    axes.grid(axis="x", alpha=0.3)
    axes.set_title(title)
    return figure


def _same_time_groups(moments: Sequence[Moment], start: float) -> list[tuple[str, float, list[Moment]]]:
    """(row, x, moments) for each run of moments in one row at the same time, in time order."""
    groups: list[tuple[str, float, list[Moment]]] = []
    last: dict[str, tuple[str, float, list[Moment]]] = {}
    for m in sorted(moments, key=lambda m: m.time):
        x = m.time - start
        group = last.get(m.source)
        if group is not None and abs(group[1] - x) < 1e-6:
            group[2].append(m)
            continue
        last[m.source] = (m.source, x, [m])
        groups.append(last[m.source])
    return groups


def _label(m: Moment) -> str:
    if m.label.endswith(" exited") and m.detail:
        code = m.detail.split(",")[0].removeprefix("exit code ")
        return f"{m.label} ({code}{', SIGKILL' if 'SIGKILL' in m.detail else ''})"
    return m.label


def _color(row: str) -> str:
    return _COLORS.get(row.split(" ")[0], "tab:gray")
