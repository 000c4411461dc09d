"""podlab.measure on the live cluster: real pods end and are probed within the windows podlab.predict gives."""

from __future__ import annotations

import pytest

import podlab
from podlab.session import open_lab

pytestmark = [pytest.mark.live, pytest.mark.timed]  # each asserts a window Kubernetes promises


def test_a_preStop_hook_and_an_ignored_sigterm_end_by_sigkill_when_the_rules_say(live_cluster, capsys):
    setup = podlab.timing.TerminationSetup(grace_period=3, prestop=1.5, handles_sigterm=False)
    with open_lab("t-measure-termination") as lab:
        result = podlab.timing.measure_termination(lab, setup, prediction=3.5, signal="SIGKILL")
        result.summary()
    out = capsys.readouterr().out
    assert "it dies by SIGKILL at 3.5 s" in out               # 1.5 s hook, then 3 - 1 = 2 s
    assert "your prediction: 3.5 s, inside the window ✓" in out
    assert "your signal: SIGKILL ✓ (the rules: SIGKILL)" in out
    assert "✓ it ended with exit code 137: SIGKILL (128 + 9)" in out
    assert result.measured in result.window.widened(1.0)      # whole-second finishedAt
    assert result.plot().axes[0].get_legend() is not None


def test_a_liveness_probe_kills_within_its_window(live_cluster, capsys):
    setup = podlab.timing.ProbeSetup(period=1, failure_threshold=2, fails_after=2)
    with open_lab("t-measure-probe") as lab:
        result = podlab.timing.measure_probe(lab, setup, prediction=10)
        result.summary()
    out = capsys.readouterr().out
    # the rules: first failure in [2, 3), one period more, so [3, 4]; the bound (ProbeTiming.bound)
    # from the 1 s timeout earlier (a probe in flight) to podlab's 2 s reaction later
    assert "within [2, 6] s" in out
    assert "your prediction: 10 s, outside the window ✗" in out
    assert "check-fails before Killing" in out and "check-fails before SIGTERM" in out
    assert "✗" not in out.replace("outside the window ✗", "")
    assert 2 <= result.measured <= 6


def test_the_initial_delay_counts_from_a_started_at_cut_to_the_second(live_cluster, capsys):
    """worker.go: int32(time.Since(StartedAt).Seconds()) < InitialDelaySeconds, with StartedAt whole seconds.

    The check fails from the start and every failure kills (period 1, failureThreshold 1), so the
    first probe after the delay kills. It comes no earlier than StartedAt's whole second plus the
    delay: up to a second before the delay has passed since the real start (the `start` mark).
    """
    setup = podlab.timing.ProbeSetup(initial_delay=3, period=1, failure_threshold=1, fails_after=0)
    with open_lab("t-measure-initial-delay") as lab:
        result = podlab.timing.measure_probe(lab, setup)
        result.summary()
    timing = podlab.timing.probe_timing(setup).acts
    assert (round(timing.earliest, 2), round(timing.latest, 2)) == (2, 4)
    start, sigterm = result.timeline.moment("start"), result.timeline.moment("SIGTERM")
    started_at = result.timeline.moment("app running")  # StartedAt as the API (and the prober) has it
    assert started_at.resolution == 1.0
    assert sigterm.time >= started_at.time + setup.initial_delay - 0.01   # the prober's rule
    assert sigterm.time - start.time <= timing.latest + podlab.predict.REACTION
    with capsys.disabled():
        print(f"\ninitial delay {setup.initial_delay} s: killed {sigterm.time - start.time:.3f} s after the "
              f"entrypoint's start mark, {sigterm.time - started_at.time:.3f} s after StartedAt's whole second "
              f"(the mark came {start.time - started_at.time:.3f} s into it)")
