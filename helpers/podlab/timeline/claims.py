"""Judging a timeline's claims: each makes a podlab.Check; what the clocks cannot decide is undecided.

Comparisons allow what the resolution allows: `order(a, b)` holds when a can have happened no
later than b (two moments of the same second are in either order). A claim has three outcomes. expect_order passes when
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

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..checks import FAILED, PASSED, UNDECIDED, Check, record
from ..errors import PodlabError
from .moments import Moment, can_precede, duration_range, surely_precedes

if TYPE_CHECKING:
    from .recording import Timeline

POINT = 0.01  # a duration range narrower than this is printed as one figure


def measured_text(first: Moment, second: Moment) -> str:
    """What was measured from first to second, unclamped: '7.52 s', or 'between 7.0 and 8.0 s' at whole seconds."""
    shortest, longest = duration_range(first, second)
    if longest - shortest < POINT:
        return f"{second.middle - first.middle:.2f} s"
    return f"between {shortest:.2f} and {longest:.2f} s"


def _span(m: Moment) -> str:
    return f"{m.label}: a whole second" if m.resolution >= 1 else f"{m.label}: {m.resolution:g} s"


def expect_seen(timeline: Timeline, *names: str) -> None:
    """Claim each named moment was recorded; prints `✓ seen: A, B, C`."""
    missing = [n for n in names if not _has(timeline, n)]
    if missing:
        _fail(timeline, f"seen: {', '.join(names)}: missing {', '.join(missing)}")
    _passed(timeline, f"seen: {', '.join(names)}")


def expect_order(timeline: Timeline, *names: str) -> None:
    """Claim the moments happened in this order; prints `✓ A before B`, or `? …` when the clocks cannot tell."""
    if len(names) < 2:
        raise ValueError("expect_order needs at least two moment names")
    claim = " before ".join(names)
    found = _claimed(timeline, claim, names)
    unsure = []
    for a, b, ma, mb in zip(names, names[1:], found, found[1:]):
        if not can_precede(ma, mb):
            _fail(timeline, f"{claim}: {a} came {ma.time - mb.time:.3f} s after {b} "
                            f"({_when(timeline, ma)}; {_when(timeline, mb)})")
        if not surely_precedes(ma, mb):
            unsure.append(f"{a} and {b} overlap at their clocks' resolution ({_span(ma)}; {_span(mb)})")
    if unsure:
        _undecided(timeline, f"{claim} (undecided: {'; '.join(unsure)})")
    else:
        _passed(timeline, claim)


def expect_between(timeline: Timeline, first: str, second: str, low: float, high: float) -> None:
    """Claim the time from first to second lies in [low, high] s; prints what was measured, unclamped."""
    if not 0 <= low <= high:
        raise ValueError(f"need 0 <= low <= high, got [{low}, {high}]: to bound b before a, "
                         "swap the two moments")
    claim = f"{first} → {second} within [{low:g}, {high:g}] s"
    a, b = _claimed(timeline, claim, (first, second))
    shortest, longest = duration_range(a, b)
    observed = measured_text(a, b)
    if shortest > high or longest < low:
        _fail(timeline, f"{claim}: measured {observed} ({_when(timeline, a)}; {_when(timeline, b)})")
    if low <= shortest and longest <= high:
        _passed(timeline, f"{claim} (measured: {observed}, inside the bound)")
    else:
        _undecided(timeline, f"{claim} (measured: {observed}, partly outside the bound: undecided)")


def summary(timeline: Timeline) -> None:
    """Print the claims checked so far, one stable line each (no timestamps: measurements masked)."""
    if not timeline.checks:
        print(f"timeline of pod/{timeline.pod}: no claims checked (expect_seen, expect_order, expect_between)")
        return
    print(f"timeline of pod/{timeline.pod}: {len(timeline.checks)} claim{'s' * (len(timeline.checks) != 1)}")
    for check in timeline.checks:
        print(check.line())


def _has(timeline: Timeline, name: str) -> bool:
    try:
        timeline.moment(name)
    except PodlabError:
        return False
    return True


def _claimed(timeline: Timeline, claim: str, names: Sequence[str]) -> list[Moment]:
    missing = [n for n in names if not _has(timeline, n)]
    if missing:
        _fail(timeline, f"{claim}: no moment {', '.join(map(repr, missing))}; "
                        f"recorded: {', '.join(timeline.names()) or 'none'}")
    return [timeline.moment(n) for n in names]


def _when(timeline: Timeline, m: Moment) -> str:
    moments = timeline.moments()
    start = moments[0].time if moments else m.time
    return f"{m.label} at +{m.time - start:.3f} s, resolution {m.resolution:g} s"


def _passed(timeline: Timeline, claim: str) -> None:
    timeline.checks.append(record(Check(claim, PASSED, source=f"timeline of pod/{timeline.pod}")))


def _undecided(timeline: Timeline, claim: str) -> None:
    # an order or bound the clocks' resolution cannot decide: recorded as such, never passed
    timeline.checks.append(record(Check(claim, UNDECIDED, source=f"timeline of pod/{timeline.pod}")))


def _fail(timeline: Timeline, claim: str) -> None:
    check = record(Check(claim, FAILED, source=f"timeline of pod/{timeline.pod}"))
    raise AssertionError(check.line())

