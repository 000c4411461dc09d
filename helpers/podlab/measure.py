"""Run a pod that shows a probe's or a termination's timing, and hold the measurement next to the rules.

    from podlab import timing
    result = timing.measure_probe(lab, timing.ProbeSetup(period=2, failure_threshold=2, fails_after=4),
                                  prediction=8)
    result.summary()      # stable lines: the rules' window, the prediction, ✓ the measurement within it
    result.plot()         # the pod's timeline with the window shaded and the prediction drawn

The pods are built here from a ProbeSetup or TerminationSetup (the widgets vary every field),
and `result.manifest` is the exact object applied, for the reader to look at. Their containers
leave marks (podlab.timing.MARK_SHELL) in their termination message: `start` as the entrypoint begins,
`check-fails` when the app's check starts failing, `SIGTERM` in the handler, `preStop-start` /
`preStop-end` in the hook; the kubelet keeps them after the container ends, and the timeline
reads them with microseconds. The claims assert the window of podlab.predict (the kubelet's rules
plus podlab's REACTION allowance); the reader's prediction is compared but never asserted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .assertions import FAIL, PASS
from .checks import collecting
from .conditions import not_ready, ready, restarted
from .images import LAB_IMAGE
from .predict import (REACTION, ProbeSetup, ProbeTiming, TerminationOutcome, TerminationSetup, Window,
                      probe_timing, termination_outcome)
from .timeline import MARK_SHELL, duration_range

if TYPE_CHECKING:
    from .session import Lab
    from .timeline import Timeline

PROBE_POD = "probe-timing"
TERMINATION_POD = "termination-timing"
# The app's loop: a SIGTERM handler runs between two short sleeps, so it runs at once.
LOOP = "while true; do sleep 1 & wait $!; done"
SLACK = 60.0  # how much longer than the rules' latest moment a measurement waits before giving up
PHASE = 1 - 0.02  # the fraction of a second at which the rules' earliest end is due (see _phase_delay)


@dataclass
class Measurement:
    """A measured moment next to the window the rules give and the reader's prediction."""

    title: str
    question: str                     # what was predicted, e.g. "when the kubelet kills the container"
    setup_text: str
    window: Window | None             # where the measurement must fall (the rules, widened), None: never
    prediction: float | None
    measured_from: str                # the timeline's moment names the measurement spans
    measured_to: str
    timeline: Timeline
    manifest: dict[str, Any]
    rule: str = ""
    lines: list[str] = field(default_factory=list)
    allowance: str = f"the rules, plus podlab's {REACTION:g} s for the kubelet to act"

    @property
    def measured(self) -> float:
        """The measured seconds (varies from run to run: printed only as `measured: …`)."""
        return self.timeline.duration(self.measured_from, self.measured_to)

    def summary(self) -> None:
        """Print the setup, the rules' window, the prediction and the claims: stable lines, measurement masked."""
        print(self.title)
        print(f"  {self.setup_text}")
        if self.rule:
            print(f"  the kubelet's rules: {self.rule}")
        print(f"  {self.question}: within {self.window.text() if self.window else 'never'}"
              f" ({self.allowance})")
        if self.prediction is None:
            print("  your prediction: none")
        elif self.window is not None and self.prediction in self.window:
            print(f"  your prediction: {_num(self.prediction)} s, inside the window {PASS}")
        else:
            print(f"  your prediction: {_num(self.prediction)} s, outside the window {FAIL}")
        for line in self.lines:
            print(line)

    def plot(self) -> Any:
        """The pod's timeline, the rules' window shaded and the prediction as a dashed line; returns the figure."""
        figure = self.timeline.plot(title=f"{self.title}: prediction and measurement")
        moments = self.timeline.moments()
        if not moments:
            return figure
        axes = figure.axes[0]
        origin = self.timeline.moment(self.measured_from).middle - moments[0].time
        if self.window is not None:
            axes.axvspan(origin + self.window.earliest, origin + self.window.latest, color="tab:green", alpha=0.12,
                         label="the rules' window")
        if self.prediction is not None:
            axes.axvline(origin + self.prediction, color="tab:red", linestyle="--", label="your prediction")
        shortest, longest = duration_range(self.timeline.moment(self.measured_from),
                                           self.timeline.moment(self.measured_to))
        if longest - shortest > 0.05:  # a whole-second API time: the measurement lies in that second
            axes.axvspan(origin + shortest, origin + longest, color="black", alpha=0.18, label="measured")
        else:
            axes.axvline(origin + self.measured, color="black", linewidth=1, label="measured")
        axes.legend(loc="lower right", fontsize=8)
        right = max(axes.get_xlim()[1], origin + (self.prediction or 0) + 1,
                    origin + (self.window.latest if self.window else 0) + 1)
        axes.set_xlim(axes.get_xlim()[0], right)
        return figure


# -- probes -----------------------------------------------------------------------------------------

def probe_manifest(setup: ProbeSetup, name: str = PROBE_POD) -> dict[str, Any]:
    """The pod that measures `setup`: its check is an exec probe on a file the app creates at fails_after."""
    check = "test ! -e /tmp/failing" + (" || sleep 3600" if setup.failure == "hang" else "")
    probe: dict[str, Any] = {"exec": {"command": ["sh", "-c", check]}, "initialDelaySeconds": setup.initial_delay,
                             "periodSeconds": setup.period, "timeoutSeconds": setup.timeout,
                             "failureThreshold": setup.failure_threshold,
                             "successThreshold": setup.success_threshold}
    script = "\n".join([MARK_SHELL, "mark start", "trap 'mark SIGTERM; exit 0' TERM",
                        f"(sleep {_num(setup.fails_after)}; touch /tmp/failing; mark check-fails) &", LOOP])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"terminationGracePeriodSeconds": 5,
                     "containers": [{"name": "app", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                                     "command": ["sh", "-c", script], f"{setup.kind}Probe": probe}]}}


def measure_probe(lab: Lab, setup: ProbeSetup, *, prediction: float | None = None,
                  name: str = PROBE_POD) -> Measurement:
    """Run the pod of `setup`, record its timeline until the kubelet acts, and compare with the rules."""
    timing = probe_timing(setup)
    if timing.acts is None:
        raise ValueError(f"with these values the kubelet never acts ({setup.describe()}): the pod is "
                         "never Ready before its check fails. Give the check longer before it fails.")
    window = timing.bound
    manifest = probe_manifest(setup, name)
    lab.delete(name)
    timeline = lab.timeline(name)
    lab.apply(manifest)
    deadline = window.latest + SLACK
    if setup.kind == "liveness":
        lab.wait(name, restarted(1), timeout=deadline)
        lab.wait_for_event(name, "Killing", timeout=30)
        target = "SIGTERM"
    else:
        lab.wait(name, ready, timeout=deadline)
        lab.wait(name, not_ready, timeout=deadline)
        target = "Ready=False"
    lab.delete(name)
    timeline.stop()
    result = Measurement(f"{setup.kind} probe timing", timing.question, setup.describe(), window, prediction,
                         "start", target, timeline, manifest, rule=_probe_rule(timing), allowance=timing.allowance)
    result.lines = _probe_claims(timeline, timing, window, target)
    return result


def _probe_rule(timing: ProbeTiming) -> str:
    s = timing.setup
    first = (f"the first probe after {_num(max(s.fails_after, s.initial_delay))} s comes at a tick of the "
             f"{s.period} s period (the ticks' phase is unknown)")
    if s.initial_delay > s.fails_after:
        first += (f"; the kubelet counts the {s.initial_delay} s initial delay from StartedAt cut to the "
                  "second, so probing can start up to 1 s early")
    hang = f", each failing probe ending after its {s.timeout} s timeout" if s.failure == "hang" else ""
    return (f"{first}; {s.failure_threshold} consecutive failure{'s' * (s.failure_threshold != 1)}{hang} "
            f"{'kill the container' if s.kind == 'liveness' else 'turn Ready False'}, "
            f"so {timing.acts.text() if timing.acts else 'never'} after the container started")


def _claim_lines(claims: Callable[[], None]) -> list[str]:
    """Run timeline claims (each makes a Check, or raises) and keep their lines for summary()."""
    with collecting() as kept:
        claims()
    return [check.line() for check in kept.checks]


def _probe_claims(timeline: Timeline, timing: ProbeTiming, window: Window, target: str) -> list[str]:
    def claims() -> None:
        if timing.ready is not None:
            ready = timing.ready.widened(REACTION)
            timeline.expect_between("start", "Ready", ready.earliest, ready.latest)
        timeline.expect_between("start", target, window.earliest, window.latest)
        if target == "SIGTERM":
            # Killing (an event: whole seconds) and the SIGTERM right after it share a second, and so
            # can SIGTERM and the restart (startedAt): the clocks order each against check-fails.
            timeline.expect_order("check-fails", "Killing")
            timeline.expect_order("check-fails", "SIGTERM")
    return _claim_lines(claims)


# -- termination ------------------------------------------------------------------------------------

def termination_manifest(setup: TerminationSetup, name: str = TERMINATION_POD) -> dict[str, Any]:
    """The pod that measures `setup`: marks at start, around its preStop hook and (if handled) at SIGTERM."""
    lines = [MARK_SHELL, "mark start"]
    if setup.handles_sigterm:
        lines.append("trap 'mark SIGTERM; exit 0' TERM")
    lines.append(LOOP)
    container: dict[str, Any] = {"name": "app", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                                 "command": ["sh", "-c", "\n".join(lines)]}
    if setup.prestop:
        hook = "\n".join([MARK_SHELL, "mark preStop-start", f"sleep {_num(setup.prestop)}", "mark preStop-end"])
        container["lifecycle"] = {"preStop": {"exec": {"command": ["sh", "-c", hook]}}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": setup.grace_period, "containers": [container]}}


def measure_termination(lab: Lab, setup: TerminationSetup, *, prediction: float | None = None,
                        signal: str | None = None, name: str = TERMINATION_POD) -> Measurement:
    """Delete the pod of `setup` while its timeline records, and compare its end with the rules."""
    outcome = termination_outcome(setup)
    manifest = termination_manifest(setup, name)
    lab.delete(name)
    lab.apply(manifest)
    lab.wait(name, ready)
    timeline = lab.timeline(name)
    time.sleep(_phase_delay(outcome.window.earliest))
    timeline.add_marks(f"{time.time():.6f} delete sent", source="marks")
    lab.delete(name, timeout=outcome.window.latest + SLACK)
    timeline.stop()
    result = Measurement("termination timing", "when the container ends, after the delete request",
                         setup.describe(), outcome.window, prediction, "delete sent", "app exited",
                         timeline, manifest, rule=outcome.explain())
    result.lines = _termination_claims(timeline, outcome)
    if signal is not None:
        verdict = PASS if signal == outcome.signal else FAIL
        result.lines.insert(0, f"  your signal: {signal} {verdict} (the rules: {outcome.signal})")
    return result


def _phase_delay(earliest: float, now: float | None = None) -> float:
    """Seconds to wait before the delete, so that the rules' earliest end falls PHASE s before a whole second.

    The API keeps a container's finishedAt to the second, so the measured duration is a one-second
    range. Sent at this phase, an end that comes 0.02 to 1.02 s after the earliest moment the rules
    allow lies in the next whole second, and the range then lies wholly inside the window: the
    second decides the claim instead of straddling the window's start.
    """
    now = time.time() if now is None else now
    return (PHASE - now - earliest) % 1.0


def _termination_claims(timeline: Timeline, outcome: TerminationOutcome) -> list[str]:
    def claims() -> None:
        window = outcome.window
        timeline.expect_between("delete sent", "app exited", window.earliest, window.latest)
        if outcome.setup.prestop:
            timeline.expect_order("delete sent", "preStop-start", "app exited")
        if outcome.signal == "SIGTERM":
            timeline.expect_seen("SIGTERM")
    lines = _claim_lines(claims)
    exited = timeline.moment("app exited")
    code = exited.detail.split(",")[0].removeprefix("exit code ").strip()
    if code != str(outcome.exit_code):
        raise AssertionError(f"{FAIL} the container ended with exit code {code}; the rules say "
                             f"{outcome.exit_code} ({outcome.signal})")
    how = "its SIGTERM handler exited" if outcome.signal == "SIGTERM" else "SIGKILL (128 + 9)"
    return lines + [f"{PASS} it ended with exit code {code}: {how}"]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
