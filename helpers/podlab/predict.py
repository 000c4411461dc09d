"""When the kubelet acts, by its own rules: the answers a predict-then-measure widget checks a reader against.

Two models, both pure (no cluster), both from the v1.37 kubelet's source:

Probes (pkg/kubelet/prober/worker.go). A probe worker ticks every periodSeconds from the
moment the kubelet added the pod, which is before the container starts (and a readiness
trigger, below, restarts the ticker), so the ticks fall at an unknown phase of the container's
life. At each tick it skips the probe while
`int32(time.Since(c.State.Running.StartedAt.Time).Seconds()) < w.spec.InitialDelaySeconds`.
That StartedAt comes from the status manager's copy of the pod status, which normalizeStatus
has already cut to whole seconds (`*t = t.Rfc3339Copy()`, pkg/kubelet/status/status_manager.go),
so the age it computes is too large by the fraction of a second the container started in:
probing can start up to 1 s before initialDelaySeconds have really passed. Otherwise it probes, and
a probe that hangs counts as a failure after timeoutSeconds (a tick that comes while a probe
runs waits in the ticker's one-slot channel, so the next probe starts as soon as this one
ends). failureThreshold consecutive failures set the result: a liveness failure makes the
kubelet kill the container; a readiness failure turns the pod's Ready condition False.
A readiness result starts as failure, so the pod turns Ready after successThreshold
consecutive successes; until it is Ready, every pod status update also triggers an immediate
readiness probe and restarts the ticker ("Trigger an immediate run of the readinessProbe to
update ready state", pkg/kubelet/prober/prober_manager.go), so the pod can turn Ready as soon
as initialDelaySeconds have passed. Once it is Ready, only the ticker probes. probe_timing()
runs the ticker over every phase and returns the earliest and latest moment, in seconds after
the container started.

Termination (pkg/kubelet/kuberuntime/kuberuntime_container.go, killContainer). The kubelet
runs the preStop hook for at most the grace period, subtracts the whole seconds the hook took
(`int64(...Seconds())`, so 2.9 s counts as 2), raises what is left to at least 2 s
(minimumGracePeriodInSeconds), and asks the runtime to stop the container with that timeout:
SIGTERM (the image's stop signal), then SIGKILL when the timeout ends. A PID 1 without a
SIGTERM handler ignores the signal (the kernel drops it), so it dies by SIGKILL.

Neither rule says how quickly the kubelet notices a deletion or a probe result and starts to
act; on a lab node that takes well under a second. REACTION is the allowance podlab adds to
every latest moment; it is podlab's choice, not a Kubernetes promise. The probe rule above
also takes a probe's answer at its tick. A real probe reaches the app a moment later (an exec
has to start, a request has to be served), at most timeoutSeconds later, or it has failed by
timeout. So a probe sent just before the check fails can already see it fail:
ProbeTiming.bound, the window a measurement must fall in, starts timeoutSeconds before the
rules' earliest moment. (Lab 5 measured a kill 0.2 s before the rules' earliest on a loaded
node: a GET sent at a tick before the page went away, served after it.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MINIMUM_GRACE_PERIOD = 2   # minimumGracePeriodInSeconds, pkg/kubelet/kuberuntime/kuberuntime_container.go
REACTION = 2.0             # seconds podlab allows the kubelet to act on a deletion or a probe result
PHASES = 1000              # tick phases probe_timing() tries across one period
FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1 - 1e-6)  # where in its second the container started (StartedAt's cut)

FAILURE_MODES = ("error", "hang")


@dataclass(frozen=True)
class Window:
    """When something can happen: [earliest, latest] seconds after a reference moment."""

    earliest: float
    latest: float

    def __contains__(self, value: float) -> bool:
        return self.earliest - 1e-9 <= value <= self.latest + 1e-9

    def widened(self, by: float) -> Window:
        """The same window with `by` seconds more at its end (the kubelet's reaction)."""
        return Window(self.earliest, self.latest + by)

    def text(self) -> str:
        """'[a, b] s', rounded to 0.1 s."""
        return f"[{_num(self.earliest)}, {_num(self.latest)}] s"


@dataclass(frozen=True)
class ProbeSetup:
    """A probe's parameters, and when the app's check starts to fail (seconds after its start)."""

    kind: str = "liveness"          # "liveness" or "readiness"
    initial_delay: int = 0          # initialDelaySeconds
    period: int = 10                # periodSeconds
    timeout: int = 1                # timeoutSeconds
    failure_threshold: int = 3      # failureThreshold
    success_threshold: int = 1      # successThreshold (must be 1 for liveness)
    fails_after: float = 5.0        # the check fails from this moment on
    failure: str = "error"          # "error": the check fails at once; "hang": it stops answering

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in ("liveness", "readiness"):
            problems.append(f"kind must be 'liveness' or 'readiness', not {self.kind!r}")
        if self.failure not in FAILURE_MODES:
            problems.append(f"failure must be 'error' or 'hang', not {self.failure!r}")
        for name in ("period", "timeout", "failure_threshold", "success_threshold"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1 (the API server's minimum)")
        if self.initial_delay < 0 or self.fails_after < 0:
            problems.append("initial_delay and fails_after cannot be negative")
        if self.kind == "liveness" and self.success_threshold != 1:
            problems.append("a liveness probe's success_threshold must be 1 (the API server refuses others)")
        if problems:
            raise ValueError("; ".join(problems))

    def describe(self) -> str:
        """One line: the parameters as a manifest would name them."""
        extra = f", successThreshold {self.success_threshold}" if self.kind == "readiness" else ""
        how = "stops answering (each probe times out)" if self.failure == "hang" else "fails at once"
        return (f"{self.kind} probe: initialDelaySeconds {self.initial_delay}, periodSeconds {self.period}, "
                f"timeoutSeconds {self.timeout}, failureThreshold {self.failure_threshold}{extra}; "
                f"the check {how} from {_num(self.fails_after)} s after the container starts")


@dataclass(frozen=True)
class ProbeTiming:
    """What the kubelet's rules give for a ProbeSetup, in seconds after the container started."""

    setup: ProbeSetup
    ready: Window | None      # readiness: when the pod turns Ready (None: not before the check fails)
    acts: Window | None       # liveness: the kill; readiness: Ready turns False (None: never)

    @property
    def question(self) -> str:
        """What a reader predicts for this setup."""
        return ("when the kubelet kills the container" if self.setup.kind == "liveness"
                else "when the pod's Ready condition turns False")

    @property
    def bound(self) -> Window | None:
        """Where a measurement of `acts` must fall: timeoutSeconds earlier (a probe in flight), REACTION later."""
        if self.acts is None:
            return None
        return Window(max(self.acts.earliest - self.setup.timeout, 0.0), self.acts.latest + REACTION)

    @property
    def allowance(self) -> str:
        """How `bound` widens the rules' window, in words."""
        return (f"the rules, from {self.setup.timeout} s earlier for a probe already in flight, "
                f"plus podlab's {REACTION:g} s for the kubelet to act")


def probe_timing(setup: ProbeSetup) -> ProbeTiming:
    """The earliest and latest moments the kubelet's rules allow, over every phase of its ticks."""
    ready, acts = [], []
    for fraction in FRACTIONS:
        for i in range(PHASES):
            became_ready, acted = _one_phase(setup, setup.period * i / PHASES, fraction)
            ready.append(became_ready)
            acts.append(acted)
    step = setup.period / PHASES  # a phase between two samples can be this much later
    if setup.kind == "liveness":
        return ProbeTiming(setup, None, _window(acts, step))
    by_ticks = _window(ready, step)
    # triggered probes (while not Ready) can bring Ready forward to initialDelaySeconds, or up to
    # 1 s before it (StartedAt cut to the second)
    became_ready = by_ticks and Window(float(max(setup.initial_delay - 1, 0)), by_ticks.latest)
    return ProbeTiming(setup, became_ready, _window(acts, step))


def _window(moments: list[float | None], step: float) -> Window | None:
    found = [m for m in moments if m is not None]
    if len(found) < len(moments):  # some phases never get there: no promise either way
        return None
    return Window(min(found), max(found) + step)


def _one_phase(s: ProbeSetup, phase: float, fraction: float = 0.0) -> tuple[float | None, float | None]:
    """(Ready at, kill / not-ready at) for ticks at phase + k * period after the container started.

    fraction: where in its second the container started; StartedAt, cut to that second, makes the
    kubelet's computed age larger by it.
    """
    horizon = s.fails_after + s.initial_delay + (s.failure_threshold + s.success_threshold + 2) * (s.period + s.timeout)
    start, run, last, ready_at = phase, 0, None, None
    while start <= horizon:
        if int(start + fraction + 1e-9) < s.initial_delay:  # worker.go: disabled for initialDelaySeconds
            end = start
        else:
            healthy = start < s.fails_after
            end = start + (s.timeout if not healthy and s.failure == "hang" else 0.0)
            run = run + 1 if last == healthy else 1
            last = healthy
            if healthy and s.kind == "readiness" and ready_at is None and run >= s.success_threshold:
                ready_at = end
            if not healthy and run >= s.failure_threshold:
                if s.kind == "readiness" and ready_at is None:
                    return None, None                   # never Ready, so it cannot turn False
                return ready_at, end
        next_tick = phase + (math.floor((start - phase) / s.period + 1e-9) + 1) * s.period
        start = max(next_tick, end)                     # a tick during a probe waits for it to end
    return ready_at, None


@dataclass(frozen=True)
class TerminationSetup:
    """A container being deleted: its grace period, its preStop hook's length, and its SIGTERM handling."""

    grace_period: int = 30          # terminationGracePeriodSeconds
    prestop: float = 0.0            # seconds the preStop hook runs (0: no hook)
    handles_sigterm: bool = True    # does PID 1 install a SIGTERM handler (that exits at once)?

    def __post_init__(self) -> None:
        if self.grace_period < 1:
            raise ValueError("grace_period must be at least 1 s here (0 is the force-delete case)")
        if self.prestop < 0:
            raise ValueError("prestop cannot be negative")

    def describe(self) -> str:
        """One line: the setup as a manifest and a program would show it."""
        hook = f"a preStop hook that runs {_num(self.prestop)} s" if self.prestop else "no preStop hook"
        handler = "a SIGTERM handler that exits at once" if self.handles_sigterm else "no SIGTERM handler"
        return f"terminationGracePeriodSeconds {self.grace_period}, {hook}, PID 1 with {handler}"


@dataclass(frozen=True)
class TerminationOutcome:
    """What the kubelet's rules give, in seconds after it starts to stop the container."""

    setup: TerminationSetup
    sigterm_at: float               # when SIGTERM is sent (after the preStop hook, or at the grace period)
    dies_at: float                  # when the container ends
    signal: str                     # "SIGTERM" (the handler exits) or "SIGKILL"
    exit_code: int                  # 0 (the handler's exit) or 137 (128 + SIGKILL)
    hook_cut: bool                  # the preStop hook was still running when the grace period ended
    stop_timeout: int               # the timeout the runtime gets after the hook

    @property
    def window(self) -> Window:
        """When the container can end, with the kubelet's reaction allowed."""
        return Window(self.dies_at, self.dies_at).widened(REACTION)

    def explain(self) -> str:
        """How the rules get there, in one sentence."""
        s = self.setup
        if s.prestop:
            hook = (f"the preStop hook is cut at the {s.grace_period} s grace period" if self.hook_cut
                    else f"the preStop hook ends at {_num(s.prestop)} s")
            taken = int(min(s.prestop, s.grace_period))
            left = (f"the runtime gets {s.grace_period} - {taken} whole seconds = "
                    f"{s.grace_period - taken} s" + (f", raised to the {MINIMUM_GRACE_PERIOD} s minimum"
                                                     if s.grace_period - taken < MINIMUM_GRACE_PERIOD else ""))
            first = f"{hook}, then SIGTERM; {left}"
        else:
            first = f"SIGTERM at once; the runtime gets the {self.stop_timeout} s grace period"
        last = ("the handler exits on SIGTERM" if s.handles_sigterm
                else f"PID 1 ignores SIGTERM, so SIGKILL ends it {self.stop_timeout} s after SIGTERM")
        return f"{first}; {last}: it dies by {self.signal} at {_num(self.dies_at)} s"


def termination_outcome(setup: TerminationSetup) -> TerminationOutcome:
    """When and how a deleted container ends, by killContainer's rules."""
    grace = setup.grace_period
    hook = min(setup.prestop, grace) if setup.prestop else 0.0
    stop_timeout = max(grace - int(hook), MINIMUM_GRACE_PERIOD)
    if setup.handles_sigterm:
        return TerminationOutcome(setup, hook, hook, "SIGTERM", 0, setup.prestop > grace, stop_timeout)
    return TerminationOutcome(setup, hook, hook + stop_timeout, "SIGKILL", 137, setup.prestop > grace, stop_timeout)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
