"""podlab.measure on the live cluster: real pods end and are probed within the windows podlab.predict gives."""

from __future__ import annotations

import pytest

import podlab
from podlab.session import open_lab

pytestmark = pytest.mark.live


def test_a_preStop_hook_and_an_ignored_sigterm_end_by_sigkill_when_the_rules_say(live_cluster, capsys):
    setup = podlab.TerminationSetup(grace_period=3, prestop=1.5, handles_sigterm=False)
    with open_lab("t-measure-termination") as lab:
        result = podlab.measure_termination(lab, setup, prediction=3.5, signal="SIGKILL")
        result.summary()
    out = capsys.readouterr().out
    assert "it dies by SIGKILL at 3.5 s" in out               # 1.5 s hook, then 3 - 1 = 2 s
    assert "your prediction: 3.5 s, inside the window ✓" in out
    assert "your signal: SIGKILL ✓ (the rules: SIGKILL)" in out
    assert "✓ it ended with exit code 137: SIGKILL (128 + 9)" in out
    assert result.measured in result.window.widened(1.0)      # whole-second finishedAt
    assert result.plot().axes[0].get_legend() is not None


def test_a_liveness_probe_kills_within_its_window(live_cluster, capsys):
    setup = podlab.ProbeSetup(period=1, failure_threshold=2, fails_after=2)
    with open_lab("t-measure-probe") as lab:
        result = podlab.measure_probe(lab, setup, prediction=10)
        result.summary()
    out = capsys.readouterr().out
    assert "within [3, 6] s" in out                           # first failure in [2, 3), one period more
    assert "your prediction: 10 s, outside the window ✗" in out
    assert "✓ check-fails before Killing before SIGTERM before app running#2" in out
    assert 3 <= result.measured <= 6
