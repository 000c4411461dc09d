"""`make test`'s pytest run: the tests one at a time, then the notebooks side by side.

    python scripts/run_tests.py [PYTEST_ARGS...]

1. tests/unit, tests/live, tests/site in one process, in that order: the live teardown test
   (tests/live/test_teardown.py) and the kind down test bring a cluster down and up again, so
   nothing may run beside them, and the live tests are timed against bounds of their own.
2. book/ and labs/ under nbval, NOTEBOOK_WORKERS (default 3) notebooks at a time with
   pytest-xdist, one notebook file per worker (--dist loadfile: a notebook's cells run in
   order in one kernel). Each notebook opens a lab of its own (a namespace per session), and
   most of a notebook's time is Kubernetes' own waiting, not CPU.

PYTEST_ARGS go to both runs (e.g. -x, -k). Given paths, it runs pytest once on them, one at a
time, as `pytest PATHS` would. The exit status is pytest's: 0 when both runs passed (a run
whose selection left no test, exit 5, counts as passed when the other ran tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NO_TESTS = 5  # pytest's exit status when it collected nothing


def _pytest(*args: str) -> int:
    command = [sys.executable, "-m", "pytest", *args]
    print(f"run_tests: {' '.join(command[1:])}", flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if any(not a.startswith("-") and (ROOT / a.split("::")[0]).exists() for a in argv):
        return _pytest(*argv)  # the caller chose what to run
    workers = os.environ.get("NOTEBOOK_WORKERS", "3")
    codes = [_pytest("tests/unit", "tests/live", "tests/site", *argv),
             _pytest("-n", workers, "--dist", "loadfile", "book", "labs", *argv)]
    failed = [c for c in codes if c not in (0, NO_TESTS)]
    if failed:
        return failed[0]
    return NO_TESTS if all(c == NO_TESTS for c in codes) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
