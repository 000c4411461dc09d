"""Every exercise under labs/ (and the example fixture) is live-proven: the starter fails for the
intended reason (its message contains the exercise's starter_fails_with), the solution passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from podlab.errors import PodlabError
from podlab.exercises import load_exercises
from podlab.session import open_lab

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).parent / "fixtures" / "example-lab" / "exercises.py"
# The labs whose notebooks make test runs alone (scripts/run_tests.py ALONE): their checks measure
# against bounds (a restart within HANG_BOUND, a predicted kill), so they run one at a time too.
# Lab 7's failed-node exercise measures an eviction against a bound, and the node controller stops
# tainting when several nodes of a zone fail at once: one at a time as well.
TIMED_LABS = ("03-", "05-", "07-leave-failed-node")
EXERCISES = [pytest.param(e, id=e.id, marks=[pytest.mark.timed] if e.id.startswith(TIMED_LABS) else [])
             for e in load_exercises(ROOT / "labs") + load_exercises(EXAMPLE)]


@pytest.fixture(autouse=True)
def own_progress_file(tmp_path, monkeypatch):
    """Each test records to a progress file of its own: tests run side by side (scripts/run_tests.py)."""
    monkeypatch.setenv("PODLAB_PROGRESS", str(tmp_path / "progress.json"))


def lab_name(exercise_id: str, suffix: str) -> str:
    return f"ex-{exercise_id}"[:40].rstrip("-") + f"-{suffix}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_starter_fails_for_the_intended_reason(live_cluster, exercise):
    with open_lab(lab_name(exercise.id, "starter")) as lab:
        with pytest.raises((AssertionError, PodlabError)) as failure:
            exercise.verify(lab, exercise.starter)
    message = str(failure.value)
    assert exercise.starter_fails_with in message, (
        f"the starter of {exercise.id} failed, but not for the intended reason "
        f"({exercise.starter_fails_with!r}):\n{message}")


@pytest.mark.parametrize("exercise", EXERCISES)
def test_solution_passes(live_cluster, exercise):
    with open_lab(lab_name(exercise.id, "solution")) as lab:
        exercise.verify(lab, exercise.solution)


def test_reader_flow_retries_in_the_same_lab(live_cluster, capsys):
    """check() clears a previous attempt, so a corrected answer can be checked in the same lab."""
    exercise = load_exercises(EXAMPLE)[0]
    with open_lab("ex-reader-flow") as lab:
        exercise.check(lab, exercise.starter)
        exercise.hint()
        exercise.check(lab, exercise.solution)
    announce, *lines = capsys.readouterr().out.splitlines()
    assert announce.startswith(f"lab ex-reader-flow: namespace {lab.namespace} on context ")
    assert lines[0] == "✗ Not solved yet."
    assert lines[1] == f"  ✗ /etc/podinfo/name: expected 'namer'; observed '{lab.namespace}'"
    assert lines[2] == "Try ex.hint() (2 left)."
    assert lines[3] == "Hint 1/2: Look at the fieldRef of the `name` item."
    assert lines[4:] == ["✓ /etc/podinfo/name == 'namer'", "🎉 Exercise example-pod-name-file solved"]


def test_an_api_outage_during_a_check_raises_instead_of_calling_the_answer_unsolved(live_cluster, capsys):
    """A check that cannot reach the API server says so, with its hint; it records no verdict."""
    from podlab.checks import read_progress
    from podlab.errors import ClusterUnreachable

    exercise = load_exercises(EXAMPLE)[0]
    with open_lab("ex-outage") as lab:
        before = len(read_progress())
        host = lab.api.configuration.host
        lab.api.configuration.host = "https://127.0.0.1:9"  # nothing listens: the server is "down"
        try:
            with pytest.raises(ClusterUnreachable, match="did not answer") as raised:
                exercise.check(lab, exercise.solution)
        finally:
            lab.api.configuration.host = host
        assert "podlab status" in str(raised.value)
        assert "Not solved yet" not in capsys.readouterr().out
        assert len(read_progress()) == before


def test_a_check_records_its_verdict_for_podlab_progress(live_cluster, capsys):
    from podlab.checks import FAILED, PASSED, read_progress

    exercise = load_exercises(EXAMPLE)[0]
    with open_lab("ex-progress") as lab:
        exercise.check(lab, exercise.starter)
        exercise.check(lab, exercise.solution)
    recorded = [a for a in read_progress() if a.exercise == exercise.id][-2:]
    assert [a.outcome for a in recorded] == [FAILED, PASSED]
    assert "expected 'namer'" in recorded[0].error and recorded[1].kubernetes.startswith("v1.")
