"""`make test`'s pytest run: the tests one at a time, then the notebooks side by side.

    python scripts/run_tests.py [PYTEST_ARGS...]

1. tests/unit, tests/live, tests/site in one process, in that order: the live teardown test
   (tests/live/test_teardown.py) and the kind down test bring a cluster down and up again, so
   nothing may run beside them, and the live tests are timed against bounds of their own.
2. book/ and labs/ under nbval, NOTEBOOK_WORKERS (default 3) notebooks at a time with
   pytest-xdist, one notebook file per worker (--dist loadfile: a notebook's cells run in
   order in one kernel). Each notebook opens a lab of its own (a namespace per session), and
   most of a notebook's time is Kubernetes' own waiting, not CPU.
3. The notebooks in ALONE (timing bounds, or nodes others would see), one at a time.

PYTEST_ARGS go to every run (e.g. -x, -k). Given paths, it runs pytest once on them, one at a
time, as `pytest PATHS` would. The exit status is pytest's: 0 when every run passed (a run
whose selection left no test, exit 5, counts as passed when another ran tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NO_TESTS = 5  # pytest's exit status when it collected nothing

# Notebooks that assert timing bounds tight enough that two other notebooks' CPU beside them can
# push a measurement over (seen: chapter 4's 4.03 s against <= 4 s, lab 5's predicted liveness
# kill), or that add nodes other notebooks would see (chapter 7's KWOK nodes, once it joins the
# book): they run one at a time after the others.
ALONE = ["book/03-lifecycle-hooks.ipynb", "book/04-stopping-and-starting.ipynb", "book/05-probes.ipynb",
         "labs/03-lifecycle-hooks.ipynb", "labs/05-probes.ipynb"]


def _pytest(*args: str) -> int:
    command = [sys.executable, "-m", "pytest", *args]
    print(f"run_tests: {' '.join(command[1:])}", flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if any(not a.startswith("-") and (ROOT / a.split("::")[0]).exists() for a in argv):
        return _pytest(*argv)  # the caller chose what to run
    workers = os.environ.get("NOTEBOOK_WORKERS", "3")
    alone = [f"--deselect={n}" for n in ALONE]  # pytest-xdist: deselected there, run alone after
    codes = [_pytest("tests/unit", "tests/live", "tests/site", *argv),
             _pytest("-n", workers, "--dist", "loadfile", *alone, "book", "labs", *argv),
             _pytest(*ALONE, *argv)]
    failed = [c for c in codes if c not in (0, NO_TESTS)]
    if failed:
        return failed[0]
    return NO_TESTS if all(c == NO_TESTS for c in codes) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
