"""Checks as values: every claim, timeline claim, measurement, prediction and exercise makes one.

    check = Check("pod name file == 'demo'", PASSED, source="expect_equal")
    record(check)                  # handed to the recorders in force: by default, printed as `✓ …`

A Check says what was claimed, whether the cluster bore it out (passed), contradicted it
(failed) or could not decide it at the resolution of its clocks (undecided), what was observed,
and where the check came from. Recorders receive them:

- the default recorder prints `✓ claim` and `? claim` lines, the ones stored notebooks show
  (a failed claim is not printed: it raises, and the error shows it);
- `collecting()` keeps the checks of a block instead of printing them (a measurement replays them
  in its summary());
- `ProgressFile` appends exercise outcomes to a JSON file that `podlab progress` reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

PASSED, FAILED, UNDECIDED = "passed", "failed", "undecided"
SYMBOLS = {PASSED: "✓", FAILED: "✗", UNDECIDED: "?"}


@dataclass(frozen=True)
class Check:
    """One claim checked against the cluster: its outcome, what was observed, and where it came from."""

    claim: str
    outcome: str
    observed: str = ""
    source: str = ""
    at: float = field(default_factory=time.time, compare=False)

    def __post_init__(self) -> None:
        if self.outcome not in SYMBOLS:
            raise ValueError(f"outcome must be one of {', '.join(SYMBOLS)}, not {self.outcome!r}")

    @property
    def passed(self) -> bool:
        """Whether the cluster bore the claim out."""
        return self.outcome == PASSED

    def line(self) -> str:
        """The printed line: `✓ claim`, `? claim`, or `✗ claim; observed …`."""
        if self.outcome == FAILED and self.observed:
            return f"{SYMBOLS[FAILED]} {self.claim}; observed {self.observed}"
        return f"{SYMBOLS[self.outcome]} {self.claim}"


class Recorder(Protocol):
    """Something that receives checks."""

    def record(self, check: Check) -> None:
        """Receive one check."""


class Printer:
    """The default recorder: prints passed and undecided checks, one line each."""

    def record(self, check: Check) -> None:
        """Print the check's line unless it failed (a failure raises and shows itself)."""
        if check.outcome != FAILED:
            print(check.line())


class Collector:
    """Keeps the checks it receives, in order."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def record(self, check: Check) -> None:
        """Keep the check."""
        self.checks.append(check)


_RECORDERS: ContextVar[tuple[Recorder, ...]] = ContextVar("podlab_recorders", default=(Printer(),))


def record(check: Check) -> Check:
    """Hand a check to the recorders in force, and return it."""
    for recorder in _RECORDERS.get():
        recorder.record(check)
    return check


@contextlib.contextmanager
def recording(*recorders: Recorder, replace: bool = False) -> Iterator[None]:
    """Within the block, checks also go to these recorders (only to them, with replace=True)."""
    token = _RECORDERS.set(tuple(recorders) if replace else _RECORDERS.get() + tuple(recorders))
    try:
        yield
    finally:
        _RECORDERS.reset(token)


@contextlib.contextmanager
def collecting() -> Iterator[Collector]:
    """Keep the block's checks instead of printing them."""
    collector = Collector()
    with recording(collector, replace=True):
        yield collector


# -- progress: what a reader has tried and solved ----------------------------------------------------

def progress_path() -> Path:
    """Where exercise outcomes are kept: PODLAB_PROGRESS, else ~/.local/share/podlab/progress.json."""
    return Path(os.environ.get("PODLAB_PROGRESS")
                or os.path.join(os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"),
                                "podlab", "progress.json"))


@dataclass(frozen=True)
class Attempt:
    """One exercise check as the progress file keeps it."""

    exercise: str
    outcome: str
    at: float
    kubernetes: str
    error: str = ""


class ProgressFile:
    """Appends exercise checks (source `exercise <id>`) to the progress file, one JSON line each."""

    def __init__(self, path: Path | None = None, *, kubernetes_version: Callable[[], str] = str) -> None:
        self._path, self.kubernetes_version = path, kubernetes_version

    @property
    def path(self) -> Path:
        """The file written (PODLAB_PROGRESS is read when a check is recorded, not before)."""
        return self._path or progress_path()

    def record(self, check: Check) -> None:
        """Append the check if it is an exercise's verdict."""
        if not check.source.startswith("exercise "):
            return
        attempt = Attempt(check.source.removeprefix("exercise "), check.outcome, check.at,
                          self.kubernetes_version(), check.observed if check.outcome != PASSED else "")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(attempt), ensure_ascii=False) + "\n")


def read_progress(path: Path | None = None) -> list[Attempt]:
    """Every attempt in the progress file, oldest first (none if there is no file)."""
    path = path or progress_path()
    if not path.is_file():
        return []
    attempts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            attempts.append(Attempt(**json.loads(line)))
        except (ValueError, TypeError) as e:
            raise ValueError(f"{path}, line {number}: not a progress record ({e}); "
                             "remove the line or the file to start afresh") from None
    return attempts


def progress_table(attempts: list[Attempt], exercises: dict[str, list[str]]) -> str:
    """Per lab, each exercise solved, tried (with the last error) or untried: the text `podlab progress` prints."""
    last: dict[str, Attempt] = {}
    solved: set[str] = set()
    for attempt in attempts:
        last[attempt.exercise] = attempt
        if attempt.outcome == PASSED:
            solved.add(attempt.exercise)
    lines = []
    for lab, ids in exercises.items():
        done = sum(i in solved for i in ids)
        lines.append(f"{lab}: {done} of {len(ids)} solved")
        for exercise_id in ids:
            if exercise_id in solved:
                lines.append(f"  ✓ {exercise_id}  solved")
            elif exercise_id in last:
                error = last[exercise_id].error.splitlines()[0] if last[exercise_id].error else ""
                lines.append(f"  ✗ {exercise_id}  tried: {error[:100]}" if error else f"  ✗ {exercise_id}  tried")
            else:
                lines.append(f"  · {exercise_id}  not tried")
    unknown = sorted(set(last) - {i for ids in exercises.values() for i in ids})
    if unknown:
        lines.append(f"(also recorded, not in these labs: {', '.join(unknown)})")
    return "\n".join(lines)
