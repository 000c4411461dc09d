"""The watch loop: list, watch from that resourceVersion, relist on 410, stop at the deadline."""

from __future__ import annotations

import pytest

from podlab._api import WatchExpired
from podlab.errors import PodlabError
from podlab.waiting import observe


def obj(version: str, phase: str = "Pending", name: str = "demo") -> dict:
    return {"metadata": {"name": name, "resourceVersion": version}, "status": {"phase": phase}}


def event(kind: str, body: dict) -> dict:
    return {"type": kind, "object": body}


class FakeSource:
    """Scripted list replies and watch streams; records the versions watches started from."""

    def __init__(self, lists, watches):
        self.lists, self.watches = list(lists), list(watches)
        self.watched_from: list[str] = []
        self.timeouts: list[int] = []
        self.list_calls = 0

    def list(self):
        self.list_calls += 1
        return self.lists.pop(0)

    def watch(self, resource_version, timeout_seconds):
        self.watched_from.append(resource_version)
        self.timeouts.append(timeout_seconds)
        script = self.watches.pop(0)
        if isinstance(script, Exception):
            raise script
        yield from script


class Clock:
    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def phases(states):
    """The one watched object's phase in each state (None: absent)."""
    states = list(states)
    assert all(len(s) <= 1 for s in states)
    return [s[0]["status"]["phase"] if s else None for s in states]


def take(iterator, n):
    return [next(iterator) for _ in range(n)]


def test_yields_listed_state_then_watches_from_list_version():
    source = FakeSource([([obj("10")], "10")], [[event("MODIFIED", obj("11", "Running"))]])
    states = take(observe(source, deadline=100, clock=Clock()), 2)
    assert phases(states) == ["Pending", "Running"]
    assert source.watched_from == ["10"]


def test_error_event_410_relists_and_resumes_from_new_list_version():
    source = FakeSource(
        lists=[([obj("10")], "10"), ([obj("50", "Running")], "55")],
        watches=[[event("MODIFIED", obj("11")), event("ERROR", {"code": 410, "message": "too old"})],
                 [event("MODIFIED", obj("56", "Succeeded"))]])
    states = take(observe(source, deadline=100, clock=Clock()), 4)
    assert phases(states) == ["Pending", "Pending", "Running", "Succeeded"]
    assert source.list_calls == 2
    assert source.watched_from == ["10", "55"]


def test_http_410_on_watch_request_relists():
    source = FakeSource(lists=[([obj("10")], "10"), ([obj("70", "Running")], "70")],
                        watches=[WatchExpired("gone"), [event("MODIFIED", obj("71", "Failed"))]])
    states = take(observe(source, deadline=100, clock=Clock()), 3)
    assert phases(states) == ["Pending", "Running", "Failed"]
    assert source.watched_from == ["10", "70"]


def test_stream_end_rewatches_from_last_seen_version_without_relisting():
    source = FakeSource([([obj("10")], "10")],
                        [[event("MODIFIED", obj("12"))], [event("MODIFIED", obj("13", "Running"))]])
    states = take(observe(source, deadline=100, clock=Clock()), 3)
    assert phases(states) == ["Pending", "Pending", "Running"]
    assert source.watched_from == ["10", "12"]
    assert source.list_calls == 1


def test_bookmark_advances_version_without_yielding():
    source = FakeSource([([obj("10")], "10")],
                        [[event("BOOKMARK", {"metadata": {"resourceVersion": "40"}})],
                         [event("MODIFIED", obj("41", "Running"))]])
    states = take(observe(source, deadline=100, clock=Clock()), 2)
    assert phases(states) == ["Pending", "Running"]
    assert source.watched_from == ["10", "40"]


def test_deleted_yields_none_and_absent_object_lists_as_none():
    source = FakeSource([([], "5")], [[event("ADDED", obj("6")), event("DELETED", obj("7"))]])
    assert phases(take(observe(source, deadline=100, clock=Clock()), 3)) == [None, "Pending", None]


def test_watch_timeout_is_the_remaining_time_rounded_up():
    clock = Clock(now=10.0)
    source = FakeSource([([obj("10")], "10")], [[event("MODIFIED", obj("11"))]])
    states = observe(source, deadline=17.5, clock=clock)
    take(states, 2)
    assert source.timeouts == [8]


def test_stops_at_deadline_even_while_events_keep_coming():
    clock = Clock()
    source = FakeSource([([obj("10")], "10")],
                        [[event("MODIFIED", obj(str(v))) for v in range(11, 20)]])
    states = observe(source, deadline=5, clock=clock)
    next(states)
    next(states)
    clock.now = 6  # the deadline passes while the stream is still open
    assert list(states) == []


def test_no_watch_once_deadline_passed():
    source = FakeSource([([obj("10")], "10")], [])
    assert phases(observe(source, deadline=0, clock=Clock(now=1))) == ["Pending"]
    assert source.watched_from == []


def test_other_error_events_raise():
    source = FakeSource([([obj("10")], "10")], [[event("ERROR", {"code": 500, "message": "boom"})]])
    states = observe(source, deadline=100, clock=Clock())
    next(states)
    with pytest.raises(PodlabError, match="boom"):
        next(states)


def test_a_selection_tracks_several_objects_by_name():
    source = FakeSource([([obj("10", name="a")], "10")],
                        [[event("ADDED", obj("11", name="b")), event("MODIFIED", obj("12", "Running", name="a")),
                          event("DELETED", obj("13", name="b"))]])
    states = take(observe(source, deadline=100, clock=Clock()), 4)
    assert [sorted((o["metadata"]["name"], o["status"]["phase"]) for o in s) for s in states] == [
        [("a", "Pending")],
        [("a", "Pending"), ("b", "Pending")],
        [("a", "Running"), ("b", "Pending")],
        [("a", "Running")],
    ]
