"""The kubelet's timing rules as podlab.predict models them (pure: the live test measures real pods)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podlab.measure import probe_manifest, termination_manifest
from podlab.predict import (MINIMUM_GRACE_PERIOD, REACTION, ProbeSetup, TerminationSetup, Window, probe_timing,
                            termination_outcome)
from podlab.widgets import WIDGET_VIEW, probe_widget, termination_widget

ROOT = Path(__file__).resolve().parents[2]


def test_liveness_kill_comes_failure_threshold_periods_after_the_failure():
    # defaults: period 10, threshold 3; the check fails from 5 s: first failing tick in [5, 15),
    # the third one two periods later
    timing = probe_timing(ProbeSetup(fails_after=5))
    assert timing.ready is None
    assert timing.acts.earliest == pytest.approx(25)
    assert timing.acts.latest == pytest.approx(35, abs=0.02)


def test_one_failure_with_a_one_second_period_acts_within_a_second():
    acts = probe_timing(ProbeSetup(period=1, failure_threshold=1, fails_after=3)).acts
    assert (acts.earliest, round(acts.latest, 2)) == (3, 4)


def test_initial_delay_holds_back_the_first_probe_up_to_a_second_less():
    # the check already fails at 0 s; worker.go compares initialDelaySeconds with the age from a
    # StartedAt cut to the second, so a container that started late in its second is probed from 7 s
    acts = probe_timing(ProbeSetup(initial_delay=8, period=2, failure_threshold=1, fails_after=0)).acts
    assert (round(acts.earliest, 2), round(acts.latest, 2)) == (7, 10)


def test_the_initial_delay_cut_depends_on_where_in_its_second_the_container_started():
    from podlab.predict import _one_phase
    setup = ProbeSetup(initial_delay=8, period=2, failure_threshold=1, fails_after=0)
    # ticks at 0.5, 2.5, 4.5, 6.5, 8.5 s of the container's life
    assert _one_phase(setup, 0.5, fraction=0.0) == (None, 8.5)   # int(6.5) < 8: probed at 8.5
    assert _one_phase(setup, 0.5, fraction=0.6) == (None, 8.5)   # int(7.1) < 8 still
    assert _one_phase(setup, 1.5, fraction=0.6) == (None, 7.5)   # int(7.5 + 0.6) == 8: probed a second early


def test_a_hanging_check_counts_after_its_timeout():
    fast = probe_timing(ProbeSetup(period=2, failure_threshold=3, fails_after=4)).acts
    hung = probe_timing(ProbeSetup(period=2, failure_threshold=3, fails_after=4, failure="hang", timeout=1)).acts
    assert (hung.earliest, round(hung.latest, 2)) == (fast.earliest + 1, round(fast.latest, 2) + 1)


def test_a_timeout_longer_than_the_period_delays_the_next_probe_not_the_ticks():
    # ticks every 2 s, each failing probe hangs 3 s: the next one starts as the previous ends
    acts = probe_timing(ProbeSetup(period=2, failure_threshold=2, fails_after=1, failure="hang", timeout=3)).acts
    assert (acts.earliest, round(acts.latest, 2)) == (7, 9)


def test_readiness_turns_ready_no_earlier_than_the_initial_delay_then_false_after_the_failures():
    timing = probe_timing(ProbeSetup(kind="readiness", initial_delay=3, period=2, success_threshold=2,
                                     failure_threshold=2, fails_after=10))
    assert timing.ready.earliest == 2          # triggered probes, and StartedAt cut to the second
    assert round(timing.ready.latest, 2) == 7  # by ticks alone: first at [3, 5), second a period later
    assert (timing.acts.earliest, round(timing.acts.latest, 2)) == (12, 14)


def test_readiness_that_never_gets_ready_never_turns_false():
    timing = probe_timing(ProbeSetup(kind="readiness", period=5, success_threshold=3, fails_after=4))
    assert timing.acts is None


@pytest.mark.parametrize("wrong, message", [
    (dict(period=0), "period must be at least 1"),
    (dict(success_threshold=2), "liveness probe's success_threshold must be 1"),
    (dict(kind="startup"), "kind must be 'liveness' or 'readiness'"),
    (dict(failure="slow"), "failure must be 'error' or 'hang'"),
])
def test_impossible_probes_are_refused_with_the_rule(wrong, message):
    with pytest.raises(ValueError, match=message):
        ProbeSetup(**wrong)


def test_handled_sigterm_ends_the_container_when_the_signal_comes():
    outcome = termination_outcome(TerminationSetup(grace_period=30))
    assert (outcome.sigterm_at, outcome.dies_at, outcome.signal, outcome.exit_code) == (0, 0, "SIGTERM", 0)
    assert outcome.window == Window(0, 2)


def test_ignored_sigterm_waits_out_the_grace_period():
    outcome = termination_outcome(TerminationSetup(grace_period=5, handles_sigterm=False))
    assert (outcome.dies_at, outcome.signal, outcome.exit_code) == (5, "SIGKILL", 137)


def test_prestop_time_is_subtracted_in_whole_seconds():
    # a 2.5 s hook takes 2 s off a 5 s grace period: SIGTERM at 2.5 s, SIGKILL 3 s later
    outcome = termination_outcome(TerminationSetup(grace_period=5, prestop=2.5, handles_sigterm=False))
    assert (outcome.sigterm_at, outcome.stop_timeout, outcome.dies_at) == (2.5, 3, 5.5)
    assert "5 - 2 whole seconds = 3 s" in outcome.explain()


def test_a_hook_that_outlasts_the_grace_period_is_cut_and_the_minimum_applies():
    outcome = termination_outcome(TerminationSetup(grace_period=3, prestop=10, handles_sigterm=False))
    assert outcome.hook_cut and outcome.stop_timeout == MINIMUM_GRACE_PERIOD
    assert (outcome.sigterm_at, outcome.dies_at) == (3, 3 + MINIMUM_GRACE_PERIOD)


def test_measurement_pods_carry_the_parameters_and_the_marks():
    pod = probe_manifest(ProbeSetup(kind="readiness", period=3, success_threshold=2, failure="hang"))
    container = pod["spec"]["containers"][0]
    probe = container["readinessProbe"]
    assert (probe["periodSeconds"], probe["successThreshold"], probe["failureThreshold"]) == (3, 2, 3)
    assert probe["exec"]["command"][-1] == "test ! -e /tmp/failing || sleep 3600"
    assert "mark start" in container["command"][-1] and "mark check-fails" in container["command"][-1]
    pod = termination_manifest(TerminationSetup(grace_period=7, prestop=1.5, handles_sigterm=False))
    container = pod["spec"]["containers"][0]
    assert pod["spec"]["terminationGracePeriodSeconds"] == 7
    assert "trap" not in container["command"][-1]   # no handler: PID 1 ignores SIGTERM
    assert "sleep 1.5" in container["lifecycle"]["preStop"]["exec"]["command"][-1]


@pytest.mark.parametrize("make", [probe_widget, termination_widget])
def test_widgets_show_a_fixed_fallback_that_names_what_to_do(make):
    widget = make(lab=None)
    bundle = widget._repr_mimebundle_()
    assert bundle["text/plain"] == widget.fallback_text() and "interactive in JupyterLab" in bundle["text/plain"]
    assert bundle["text/html"].startswith('<div class="podlab-widget-fallback"')
    assert "Measure" in bundle["text/plain"] and "next cell" in bundle["text/plain"]
    # outside a kernel ipywidgets has no comm: a view, if any, is all a bundle adds
    assert set(bundle) <= {"text/plain", "text/html", WIDGET_VIEW}


def test_no_committed_notebook_stores_widget_state_or_views():
    for path in [*ROOT.glob("book/*.ipynb"), *ROOT.glob("labs/*.ipynb")]:
        notebook = json.loads(path.read_text())
        assert "widgets" not in notebook.get("metadata", {}), f"{path}: widget state stored"
        for cell in notebook["cells"]:
            for output in cell.get("outputs", []):
                assert WIDGET_VIEW not in output.get("data", {}), f"{path}: a widget view stored"


def test_the_delete_is_timed_so_the_earliest_end_falls_just_before_a_whole_second():
    from podlab.measure import PHASE, _phase_delay
    for now, earliest in ((100.3, 5.5), (100.97, 0.0), (100.0, 7.0), (100.99, 2.5)):
        wait = _phase_delay(earliest, now)
        assert 0 <= wait < 1
        assert (now + wait + earliest) % 1 == pytest.approx(PHASE)


def test_bound_starts_a_timeout_early_for_a_probe_in_flight_and_allows_the_reaction_late():
    # lab 5's pod: the page goes at 5 s; GET every 3 s, timeout 2 s, 3 failures kill
    timing = probe_timing(ProbeSetup(period=3, timeout=2, failure_threshold=3, fails_after=5))
    assert (round(timing.acts.earliest, 1), round(timing.acts.latest, 1)) == (11, 14)
    assert timing.bound.earliest == timing.acts.earliest - 2
    assert timing.bound.latest == timing.acts.latest + REACTION
    assert "2 s earlier" in timing.allowance


def test_bound_never_starts_before_the_container():
    timing = probe_timing(ProbeSetup(period=1, timeout=5, failure_threshold=1, fails_after=0))
    assert timing.bound.earliest == 0.0
