"""A pod's timeline, without a cluster: times and marks parsed, moments merged and ordered, claims, figure."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from podlab.errors import PodlabError
from podlab.timeline import (MARK_SHELL, Moment, Timeline, can_precede, duration_range, event_moments,
                             mark_shell, merge, parse_marks, parse_time, pod_moments)
from podlab.timeline.figures import plot_moments, rows, spans

T0 = 1795380922.0  # 2026-11-22T20:55:22Z
SANITIZE = Path(__file__).resolve().parents[1] / "nbval-sanitize.cfg"


def at(seconds: int) -> str:
    """The API's spelling of T0 + seconds: RFC 3339, whole seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 + seconds))


def state(version: int, *, conditions: dict[str, tuple[str, int]] | None = None, container: dict | None = None,
          deletion: tuple[int, int] | None = None, uid: str = "uid-1") -> dict:
    """A pod's JSON: conditions map type → (status, seconds), deletion is (deletionTimestamp, grace)."""
    meta = {"name": "hooks", "uid": uid, "resourceVersion": str(version), "creationTimestamp": at(0)}
    if deletion:
        meta["deletionTimestamp"], meta["deletionGracePeriodSeconds"] = at(deletion[0]), deletion[1]
    status = {"conditions": [{"type": t, "status": s, "lastTransitionTime": at(when)}
                             for t, (s, when) in (conditions or {}).items()]}
    if container is not None:
        status["containerStatuses"] = [{"name": "app", **container}]
    return {"metadata": meta, "status": status}


MARKS = "1795380923.341008 entrypoint-start\n1795380926.474046 preStop-start\n1795380927.492926 sigterm\n"

LIFE = [  # what the recording of a pod with a preStop hook saw, from creation to its last state
    state(10),
    state(11, conditions={"PodScheduled": ("True", 0)}),
    state(12, conditions={"PodScheduled": ("True", 0), "Ready": ("False", 0)},
          container={"state": {"waiting": {"reason": "ContainerCreating"}}}),
    state(13, conditions={"PodScheduled": ("True", 0), "Ready": ("True", 2)},
          container={"state": {"running": {"startedAt": at(1)}}}),
    state(14, conditions={"PodScheduled": ("True", 0), "Ready": ("True", 2)},
          container={"state": {"running": {"startedAt": at(1)}}}, deletion=(7, 3)),
    state(15, conditions={"PodScheduled": ("True", 0), "Ready": ("False", 5)}, deletion=(7, 3),
          container={"state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": at(1),
                                              "finishedAt": at(5), "message": MARKS}}}),
    state(16, conditions={"PodScheduled": ("True", 0), "Ready": ("False", 5)}, deletion=(5, 0),
          container={"state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": at(1),
                                              "finishedAt": at(5), "message": MARKS}}}),
]


def core_event(reason: str, seconds: int, *, count: int = 1, last: int | None = None, uid: str = "uid-1",
               version: str = "1") -> dict:
    """An old-style core/v1 event (what the kubelet and scheduler record on 1.37): whole seconds."""
    return {"metadata": {"uid": f"ev-{reason}", "resourceVersion": version}, "reason": reason,
            "message": f"{reason} message", "involvedObject": {"kind": "Pod", "name": "hooks", "uid": uid},
            "firstTimestamp": at(seconds), "lastTimestamp": at(seconds if last is None else last),
            "eventTime": None, "count": count}


def timeline(*states: dict, events: tuple[dict, ...] = (), marks: str | None = None) -> Timeline:
    """A timeline fed by hand, as the recording would feed it; it never connects."""
    tl = Timeline("podlab-test", "hooks", record=False, marks=marks)
    for s in states:
        tl.add_pod_state(s)
    for e in events:
        tl.add_event(e)
    return tl


def recorded() -> Timeline:
    return timeline(*LIFE, events=(core_event("Scheduled", 0), core_event("Started", 1),
                                   core_event("Killing", 4)))


# -- parsing ---------------------------------------------------------------------------------------

def test_api_times_have_their_resolution():
    assert parse_time("2026-11-22T20:55:22Z") == (T0, 1.0)
    when, resolution = parse_time("2026-11-22T20:55:22.123456Z")
    assert when == pytest.approx(T0 + 0.123456) and resolution == pytest.approx(1e-6)
    assert parse_time("2026-11-22T22:55:22+02:00") == (T0, 1.0)
    with pytest.raises(ValueError, match="not an RFC 3339 time"):
        parse_time("yesterday")


def test_marks_are_time_and_label_lines():
    found = parse_marks("1795380923.341008 entrypoint-start\n\n1795380924.5 preStop hook end  \n"
                        "1795380925.123456789 ns\n1795380926 whole\n")
    assert [(m.label, m.source) for m in found] == [("entrypoint-start", "marks"), ("preStop hook end", "marks"),
                                                   ("ns", "marks"), ("whole", "marks")]
    assert found[0].time == pytest.approx(1795380923.341008) and found[0].resolution == pytest.approx(1e-6)
    assert found[1].resolution == pytest.approx(0.1)
    assert found[2].resolution == pytest.approx(1e-6)  # nanoseconds written, microseconds claimed
    assert found[3].resolution == 1.0


def test_a_line_that_is_no_mark_is_an_error_or_skipped():
    with pytest.raises(ValueError, match=r"line 2 .*%N.*MARK_SHELL"):
        parse_marks("1795380923.5 ok\n1795380923.%N entrypoint-start\n")
    assert [m.label for m in parse_marks("hello\n1795380923.5 ok\n", strict=False)] == ["ok"]


@pytest.mark.skipif(shutil.which("busybox") is None, reason="needs a busybox on this machine")
def test_mark_shell_writes_microsecond_marks_with_busybox(tmp_path):
    log = tmp_path / "log"
    before = time.time()
    subprocess.run(["busybox", "sh", "-c", f"{mark_shell(str(log))}; mark one; mark 'two words'"], check=True)
    after = time.time()
    first, second = parse_marks(log.read_text())
    assert (first.label, second.label) == ("one", "two words")
    assert before - 1e-3 <= first.time <= second.time <= after + 1e-3
    assert first.resolution == pytest.approx(1e-6)
    assert re.fullmatch(r"\d+\.\d{6} one", log.read_text().splitlines()[0])


def test_the_documented_idiom_writes_to_the_termination_log():
    assert MARK_SHELL == mark_shell("/dev/termination-log")
    assert MARK_SHELL.startswith("mark() { adjtimex | awk") and MARK_SHELL.endswith(">> /dev/termination-log; }")
    assert "%N" not in MARK_SHELL


# -- moments from pod states and events ----------------------------------------------------------------

def test_a_pods_states_give_its_moments():
    found = {m.label: m for m in pod_moments(LIFE)}
    assert set(found) == {"created", "PodScheduled", "Ready", "Ready=False", "app running", "app exited",
                          "deletion requested", "grace period ends", "entrypoint-start", "preStop-start",
                          "sigterm"}
    # The API server sets deletionTimestamp to request + grace period; the kubelet's final delete
    # (grace 0) moves it later, so the first one seen says when deletion was requested.
    assert found["deletion requested"].time == T0 + 4 and found["grace period ends"].time == T0 + 7
    assert found["Ready=False"].time == T0 + 5  # only after Ready had been True: not the initial False
    assert found["app exited"].detail == "exit code 0, Completed"
    assert found["sigterm"].source == "marks app" and found["sigterm"].resolution == pytest.approx(1e-6)
    assert found["app running"].resolution == 1.0 and found["app running"].source == "container app"


def test_states_are_read_in_resource_version_order():
    assert pod_moments(reversed(LIFE)) == pod_moments(LIFE)


def test_a_restart_shows_both_runs():
    crashed = {"exitCode": 137, "reason": "Error", "startedAt": at(1), "finishedAt": at(3)}
    again = state(20, container={"state": {"running": {"startedAt": at(4)}}, "lastState": {"terminated": crashed}})
    tl = timeline(again)
    assert [n for n in tl.names() if n.startswith("app")] == ["app running", "app exited", "app running#2"]
    assert tl.moment("app exited").detail == "exit code 137, SIGKILL, Error"
    assert tl.moment("app running#2").time == T0 + 4


def test_events_of_both_apis_with_their_resolution():
    new_style = {"metadata": {"uid": "ev-x", "resourceVersion": "3"}, "reason": "Unhealthy",
                 "note": "probe failed",
                 "regarding": {"kind": "Pod", "name": "hooks", "uid": "uid-1"},
                 "eventTime": "2026-11-22T20:55:23.250000Z",
                 "series": {"count": 4, "lastObservedTime": "2026-11-22T20:55:26.500000Z"}}
    other_pod = core_event("Started", 1, uid="uid-of-an-earlier-pod")
    not_a_pod = {**core_event("Created", 1), "involvedObject": {"kind": "Service", "name": "hooks"}}
    found = event_moments([core_event("Killing", 4), new_style, other_pod, not_a_pod], uids={"uid-1"})
    assert [(m.label, m.time - T0, m.resolution) for m in found] == [
        ("Unhealthy", pytest.approx(1.25), pytest.approx(1e-6)), ("Killing", 4.0, 1.0),
        ("Unhealthy", pytest.approx(4.5), pytest.approx(1e-6))]
    assert found[2].detail == "probe failed (x4)"


def test_each_repeat_of_an_event_the_recording_saw_is_a_moment():
    tl = timeline(LIFE[3], events=(core_event("BackOff", 2, count=2, last=3, version="5"),
                                   core_event("BackOff", 2, count=3, last=6, version="6")))
    assert [n for n in tl.names() if n.startswith("BackOff")] == ["BackOff", "BackOff#2", "BackOff#3"]
    assert tl.moment("BackOff#3").time == T0 + 6


def test_merge_drops_repeats_and_sorts():
    a, b = Moment("x", 2.0, 1.0, "pod"), Moment("y", 1.0, 1.0, "pod")
    assert merge([a, b, Moment("x", 2.0, 1.0, "pod", "again")]) == [b, a]


# -- order and durations within resolution ---------------------------------------------------------------

def test_order_allows_what_the_resolution_allows():
    second = lambda t: Moment("s", t, 1.0, "pod")  # noqa: E731
    micro = lambda t: Moment("m", t, 1e-6, "marks")  # noqa: E731
    assert can_precede(second(10), second(10)) and not can_precede(second(11), second(10))
    assert can_precede(micro(10.5), second(10))      # the second-resolution one may be as late as 10.99
    assert can_precede(second(10), micro(10.2)) and not can_precede(second(11), micro(10.9))
    assert not can_precede(micro(10.5), micro(10.3)) and can_precede(micro(10.3), micro(10.3))
    assert duration_range(second(10), second(12)) == (1.0, 3.0)


def test_expect_order_prints_the_claim(capsys):
    tl = recorded()
    assert tl.order("Started", "Ready") and tl.order("deletion requested", "Killing")
    assert not tl.order("app exited", "Killing")
    tl.expect_order("Scheduled", "Started", "Ready")
    tl.expect_order("deletion requested", "preStop-start", "sigterm", "app exited")
    tl.expect_order("Started", "preStop-start", "sigterm")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✓ Scheduled before Started before Ready"
    # deletion requested (whole second 4) holds the preStop-start mark (4.47 s), and app exited
    # (finishedAt, whole second 5) the sigterm mark (5.49 s): the clocks cannot order either pair
    assert out[1] == ("? deletion requested before preStop-start before sigterm before app exited (undecided: "
                      "deletion requested and preStop-start overlap at their clocks' resolution (deletion "
                      "requested: a whole second; preStop-start: 1e-06 s); sigterm and app exited overlap at "
                      "their clocks' resolution (sigterm: 1e-06 s; app exited: a whole second))")
    assert out[2] == "✓ Started before preStop-start before sigterm"


def test_an_order_the_clocks_cannot_decide_is_undecided_never_passed(capsys):
    # two events of the same second (whole-second clocks) can have come in either order
    tl = timeline(*LIFE, events=(core_event("Killing", 3), core_event("Unhealthy", 3)))
    tl.expect_order("Unhealthy", "Killing")
    tl.expect_order("PodScheduled", "Killing")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("? Unhealthy before Killing (undecided: Unhealthy and Killing overlap at their clocks' "
                      "resolution (Unhealthy: a whole second; Killing: a whole second))")
    assert out[1] == "✓ PodScheduled before Killing"
    assert not out[0].startswith("✓")
    assert tl.summary() is None and capsys.readouterr().out.splitlines()[1].startswith("? Unhealthy")
    assert sanitized("\n".join(out)) == "<outcome> Unhealthy before Killing\n<outcome> PodScheduled before Killing"


def test_expect_order_fails_with_what_was_seen():
    tl = recorded()
    with pytest.raises(AssertionError,
                       match=r"✗ app exited before Killing: app exited came 1.000 s after Killing"):
        tl.expect_order("app exited", "Killing")
    with pytest.raises(AssertionError, match=r"no moment 'FailedPreStopHook'; recorded: created, "):
        tl.expect_order("Killing", "FailedPreStopHook")


def test_expect_between_prints_what_was_measured_unclamped(capsys):
    tl = recorded()
    tl.expect_between("deletion requested", "app exited", 0, 3)     # 4 → 5 in whole seconds: 0 to 2 s
    tl.expect_between("preStop-start", "sigterm", 1, 1.5)           # marks: one figure
    tl.expect_between("entrypoint-start", "sigterm", 4, 5)
    out = capsys.readouterr().out
    assert out == ("✓ deletion requested → app exited within [0, 3] s (measured: between 0.00 and 2.00 s, "
                   "inside the bound)\n"
                   "✓ preStop-start → sigterm within [1, 1.5] s (measured: 1.02 s, inside the bound)\n"
                   "✓ entrypoint-start → sigterm within [4, 5] s (measured: 4.15 s, inside the bound)\n")
    assert sanitized(out).splitlines() == [
        "<outcome> deletion requested → app exited within [0, 3] s (measured: <T>)",
        "<outcome> preStop-start → sigterm within [1, 1.5] s (measured: <T>)",
        "<outcome> entrypoint-start → sigterm within [4, 5] s (measured: <T>)"]


def test_a_range_that_straddles_the_bound_is_undecided_and_printed_as_measured(capsys):
    tl = recorded()
    # 4 → 5 in whole seconds: 0 to 2 s; the old printer would have shown 0.5 s, on the bound's edge
    tl.expect_between("deletion requested", "app exited", 0, 0.5)
    out = capsys.readouterr().out
    assert out == ("? deletion requested → app exited within [0, 0.5] s (measured: between 0.00 and 2.00 s, "
                   "partly outside the bound: undecided)\n")


def test_a_measurement_outside_its_bound_is_printed_as_measured_and_fails():
    tl = recorded()
    # marks 3.13 s apart: the old printer clamped this into the bound and printed (measured: 2.0 s)
    with pytest.raises(AssertionError, match=r"✗ entrypoint-start → preStop-start within \[0, 2\] s: "
                                             r"measured 3.13 s"):
        tl.expect_between("entrypoint-start", "preStop-start", 0, 2)
    with pytest.raises(AssertionError, match=r"✗ created → app exited within \[0, 3\] s: "
                                             r"measured between 4.00 and 6.00 s"):
        tl.expect_between("created", "app exited", 0, 3)  # 0 → 5 in whole seconds: 4 to 6 s
    with pytest.raises(ValueError, match="swap the two moments"):
        tl.expect_between("app exited", "created", -6, 0)


def test_summary_repeats_the_claims_without_times(capsys):
    tl = recorded()
    tl.summary()
    assert capsys.readouterr().out == ("timeline of pod/hooks: no claims checked "
                                       "(expect_seen, expect_order, expect_between)\n")
    tl.expect_seen("Scheduled", "Killing", "sigterm")
    tl.expect_order("Started", "Ready")
    tl.expect_between("deletion requested", "app exited", 0, 3)
    capsys.readouterr()
    tl.summary()
    out = capsys.readouterr().out
    assert out == ("timeline of pod/hooks: 3 claims\n"
                   "✓ seen: Scheduled, Killing, sigterm\n"
                   "✓ Started before Ready\n"
                   "✓ deletion requested → app exited within [0, 3] s (measured: between 0.00 and 2.00 s, "
                   "inside the bound)\n")
    assert not re.search(r"\d{4}-\d\d-\d\d|\d{9,}", out)


def test_expect_seen_names_what_is_missing():
    with pytest.raises(AssertionError, match=r"✗ seen: Killing, FailedPreStopHook: missing FailedPreStopHook"):
        recorded().expect_seen("Killing", "FailedPreStopHook")


def test_moment_lookup():
    tl = recorded()
    assert tl.moment("Ready").time == T0 + 2 and tl.moment("Ready=False").time == T0 + 5
    assert tl.duration("preStop-start", "sigterm") == pytest.approx(1.01888)
    with pytest.raises(PodlabError, match="has no moment 'Ready#2'") as caught:
        tl.moment("Ready#2")
    assert "Scheduled" in caught.value.hint
    with pytest.raises(PodlabError):
        tl.moment("Ready#zero")


def test_marks_given_as_text_have_their_own_row():
    tl = timeline(*LIFE, marks="1795380925.25 read-before-delete\n")
    assert tl.moment("read-before-delete").source == "marks"
    assert rows(tl.moments()) == ["container app", "pod", "marks", "marks app"]
    with pytest.raises(ValueError):
        tl.add_marks("no time here")


def test_a_timeline_displays_as_one_stable_line():
    assert repr(recorded()) == "timeline of pod/hooks (not recording)"


# -- recording (a scripted watch instead of the API server) ------------------------------------------------

class ScriptedSource:
    """Lists and watches like podlab.timeline.recording._Source; its watch delivers a script, then idles."""

    def __init__(self, listed: list[dict], script: list[dict], stopping: threading.Event):
        self.listed, self.script, self.stopping = listed, script, stopping

    def list(self):
        return self.listed, "1"

    def watch(self, resource_version, timeout_seconds):
        from podlab.timeline.recording import _Stopped
        if self.stopping.is_set():
            raise _Stopped
        yield from self.script
        self.script = []
        self.stopping.wait(timeout_seconds)  # a watch the server keeps open without news


def scripted(script: list[dict], final: list[dict]):
    """A source factory: the watch thread's source delivers script; stop()'s last look lists final."""
    made: list[ScriptedSource] = []

    def make(self: Timeline) -> ScriptedSource:
        made.append(ScriptedSource([], script, self._stopping) if not made
                    else ScriptedSource(final, [], self._stopping))
        return made[-1]
    return make


def test_recording_follows_the_watches_until_stopped(monkeypatch):
    killing = core_event("Killing", 4)
    pod_script = [{"type": "ADDED", "object": s} for s in LIFE] + [{"type": "DELETED", "object": LIFE[-1]}]
    monkeypatch.setattr(Timeline, "_pod_source", scripted(pod_script, []))
    monkeypatch.setattr(Timeline, "_event_source", scripted([{"type": "ADDED", "object": killing}], [killing]))
    tl = Timeline("podlab-test", "hooks")
    with tl._lock:
        assert tl._lock.wait_for(lambda: tl._removed is not None and tl._events, timeout=10)
    started = time.monotonic()
    tl.stop()
    assert time.monotonic() - started < 2
    assert {"deletion requested", "app exited", "Killing", "sigterm", "removed"} <= set(tl.names())
    assert repr(tl) == "timeline of pod/hooks (stopped)"
    assert tl.stop() is tl  # once stopped, stop() does nothing


class SlowList(ScriptedSource):
    """A source whose list takes a while to answer."""

    def list(self):
        time.sleep(0.3)
        return super().list()


def test_start_returns_once_both_watches_have_listed(monkeypatch):
    # a pod force-deleted right after start() is gone in one round trip: a list sent later would miss it
    monkeypatch.setattr(Timeline, "_pod_source", lambda self: SlowList([LIFE[0]], [], self._stopping))
    monkeypatch.setattr(Timeline, "_event_source", lambda self: SlowList([], [], self._stopping))
    tl = Timeline("podlab-test", "hooks")
    assert "created" in tl.names()  # no waiting here: start() has waited for the list
    tl._stopping.set()


def test_a_timeline_that_cannot_list_does_not_start(monkeypatch):
    monkeypatch.setattr(Timeline, "_pod_source", lambda self: Unreachable())
    monkeypatch.setattr(Timeline, "_event_source", lambda self: SlowList([], [], self._stopping))
    with pytest.raises(PodlabError, match="could not start recording: connection refused"):
        Timeline("podlab-test", "hooks")


def test_a_deleted_events_object_is_the_pods_last_state(monkeypatch):
    from podlab.timeline import recording
    last = LIFE[-1]
    script = [{"type": "MODIFIED", "object": LIFE[0]}, {"type": "DELETED", "object": last}]
    monkeypatch.setattr(recording, "watch_events", lambda *args, **kwargs: iter(script))
    seen: list[dict] = []
    source = recording._Source(None, "/api/v1/namespaces/ns/pods", "metadata.name=p", threading.Event(), seen.append)
    assert list(source.watch("1", 5)) == script  # observe still gets every event
    assert seen == [last]


class Unreachable:
    """A source whose API server does not answer."""

    def list(self):
        raise PodlabError("connection refused")


def test_stop_ends_the_recording_even_when_its_last_look_fails():
    tl = timeline(*LIFE)
    tl._pod_source = tl._event_source = lambda: Unreachable()
    with pytest.raises(PodlabError, match="connection refused"):
        tl.stop()
    assert tl._stopping.is_set() and repr(tl) == "timeline of pod/hooks (stopped)"
    assert "app exited" in tl.names()  # what was recorded stays


def test_a_failing_block_is_not_hidden_by_stop():
    tl = timeline(*LIFE)
    tl._pod_source = tl._event_source = lambda: Unreachable()
    with pytest.raises(ValueError, match="the block's own"):
        with tl:
            raise ValueError("the block's own")


# -- the figure -------------------------------------------------------------------------------------------

def test_spans_pair_runs_grace_periods_and_marks():
    found = {(row, name): (a.label, b.label if b else None) for row, name, a, b in spans(recorded().moments())}
    assert found == {("container app", "app"): ("app running", "app exited"),
                     ("pod", "grace period"): ("deletion requested", "grace period ends")}
    marks = parse_marks("1 postStart-start\n2 postStart-end\n3 entrypoint-start\n")
    assert [(n, a.label, b.label) for _, n, a, b in spans(marks) if b] == [("postStart", "postStart-start",
                                                                           "postStart-end")]


def test_plot_draws_every_moment_headless():
    matplotlib = pytest.importorskip("matplotlib")
    tl = recorded()
    figure = tl.plot()
    assert isinstance(figure, matplotlib.figure.Figure)
    axes = figure.axes[0]
    texts = {t.get_text() for t in axes.texts}
    assert {"Scheduled", "Killing", "deletion requested", "app exited (0)", "sigterm", "grace period"} <= texts
    assert [t.get_text() for t in axes.get_yticklabels()] == ["container app", "pod", "events", "marks app"]
    assert axes.get_xlabel().startswith("seconds since created")
    assert repr(figure) == "<timeline figure: pod/hooks>"  # a notebook's text/plain: stable
    assert figure._repr_png_().startswith(b"\x89PNG")     # and what it shows


def test_plot_gives_moments_at_the_same_time_one_label():
    pytest.importorskip("matplotlib")
    moments = [Moment("created", 10.0, 1.0, "pod"), Moment("Scheduled", 10.0, 1.0, "events"),
               Moment("Pulled", 10.0, 1.0, "events"), Moment("Started", 11.0, 1.0, "events")]
    texts = [t.get_text() for t in plot_moments(moments, title="pod/x").axes[0].texts]
    assert "Scheduled, Pulled" in texts and "Started" in texts
    assert "Scheduled" not in texts and "Pulled" not in texts


def test_plot_of_nothing_says_so():
    pytest.importorskip("matplotlib")
    figure = plot_moments([], title="pod/none")
    assert figure.axes[0].get_title() == "pod/none: no moments recorded"


def sanitized(text: str) -> str:
    """text as nbval sees it after tests/nbval-sanitize.cfg."""
    config = configparser.ConfigParser()
    config.read(SANITIZE)
    for section in config.sections():
        if "regex" not in config[section]:  # a student-regex pair: tests/nbval_student.py applies those, nbval never
            continue
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return text


def test_drawing_never_loads_the_judging_code_and_judging_never_loads_matplotlib():
    """One concern per module: a chapter that only plots never imports the claims, and the reverse."""
    import subprocess
    import sys
    script = ("import sys; from podlab.timeline import Timeline, Moment; tl = Timeline('ns', 'p', record=False); "
              "tl._marks += [Moment('a', 1.0, 0.1, 'marks'), Moment('b', 2.0, 0.1, 'marks')]; {call}; "
              "print(sorted(m for m in sys.modules if m == 'podlab.timeline.claims' or m == 'matplotlib'))")
    def loaded(call: str) -> str:
        return subprocess.run([sys.executable, "-c", script.format(call=call)], capture_output=True, text=True,
                              check=True).stdout.strip().splitlines()[-1]
    assert loaded("tl.plot()") == "['matplotlib']"
    assert loaded("tl.expect_order('a', 'b')") == "['podlab.timeline.claims']"
