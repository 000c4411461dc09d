"""Progress lines for long steps: which step, elapsed time, where its log is."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO


class Step:
    """A running step whose elapsed time is reported until it ends."""

    def __init__(self, name: str, log: Path | None, out: TextIO) -> None:
        self.name = name
        self.log = log
        self.out = out
        self.started = time.monotonic()
        self.detail = ""

    @property
    def elapsed(self) -> float:
        """Seconds since the step began."""
        return time.monotonic() - self.started

    def line(self) -> str:
        """The step's current status line."""
        where = f"  (log: {self.log})" if self.log else ""
        detail = f" {self.detail}" if self.detail else ""
        return f"… {self.name}{detail} [{self.elapsed:5.0f}s]{where}"


@contextmanager
def step(name: str, *, log: Path | None = None, out: TextIO | None = None,
         heartbeat: float = 30.0) -> Iterator[Step]:
    """Report a step's start, a heartbeat while it runs, and its outcome with the elapsed time."""
    out = out or sys.stderr
    current = Step(name, log, out)
    print(current.line(), file=out, flush=True)
    done = threading.Event()

    def beat() -> None:
        while not done.wait(heartbeat):
            print(current.line(), file=out, flush=True)

    ticker = threading.Thread(target=beat, daemon=True)
    ticker.start()
    try:
        yield current
    except BaseException:
        done.set()
        where = f"; see {log}" if log else ""
        print(f"✗ {name} failed after {current.elapsed:.0f}s{where}", file=out, flush=True)
        raise
    done.set()
    print(f"✓ {name} ({current.elapsed:.1f}s)", file=out, flush=True)
