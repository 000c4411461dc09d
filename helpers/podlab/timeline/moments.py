"""A pod's moments: what its states, its events and its containers' marks say happened, and when.

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
Marks have the digits written (MARK_SHELL writes microseconds). can_precede, surely_precedes
and duration_range compare moments within what their resolutions allow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

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

