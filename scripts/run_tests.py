"""`make test`: the local cluster's tests and notebooks, then the notebooks again on kind.

    python scripts/run_tests.py [--up] [PYTEST_ARGS...]
    python scripts/run_tests.py --staged PATH... [PYTEST_ARGS...]

The local part, on the cluster `podlab up` brings up (`--up` brings it up first, with the kind
part's own builds started beside it, niced: `python -m podlab.cluster.kindci --prepare`, which
needs none of the local provider's builds):

1. tests/unit and tests/site in one process; then tests/live (but the exercise tests and those
   marked `background`)
   NOTEBOOK_WORKERS files at a time (--dist loadfile: each test file in one worker, as its
   fixtures expect; every test works in labs and names of its own, as notebooks beside it do);
   then the live tests marked `timed` (a window Kubernetes promises, measured) or `alone` (they
   change what the others see, such as nodes, or measure load) one at a time, in file order,
   which puts tests/live/test_teardown.py, which takes the cluster down and up again, last.
   Then the live tests marked `background` (tests/live/test_classroom_expiry.py sleeps until a
   10-minute token has expired) start in a process of their own, beside steps 2-4, and are
   waited for after step 4.
2. book/ and labs/ under nbval, NOTEBOOK_WORKERS (default 3) notebooks at a time with
   pytest-xdist, one notebook file per worker (--dist loadfile: a notebook's cells run in
   order in one kernel). Each notebook opens a lab of its own (a namespace per session), and
   most of a notebook's time is Kubernetes' own waiting, not CPU.
3. The notebooks in ALONE (timing bounds, or nodes others would see), one at a time.
4. The exercise tests (EXERCISES): NOTEBOOK_WORKERS at a time (each with a lab and a progress
   file of its own), then those marked `timed` one at a time.

The kind part: `python -m podlab.cluster.kindci` (podlab's own Docker engine, kind v0.33.0 and
its node image built offline, `podlab up --provider kind`), which runs steps 2 and 3 for the
chapters proven on kind through `--staged`, then each exercise's solution, then takes kind down.
Both parts always run; either one failing fails `make test`. PODLAB_TEST_KIND=0 leaves the kind
part out, and says so (for a machine without Debian's docker.io; CI never sets it).

PYTEST_ARGS go to every run (e.g. -x, -k). Given paths, it runs pytest once on them, as
`pytest PATHS` would (no kind part). `--staged PATHS` runs the notebooks among them as steps 2
and 3 do, and the other paths after ALONE's notebooks. The exit status is pytest's: 0 when
every run passed (a run whose selection left no test, exit 5, counts as passed when another
ran tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NO_TESTS = 5  # pytest's exit status when it collected nothing
PREPARE_LOG = "kindci-prepare.log"  # in the podlab cache's logs/
EXERCISES = "tests/live/test_exercises.py"  # each test opens a lab of its own: they run side by side

# Notebooks that assert timing bounds tight enough that two other notebooks' CPU beside them can
# push a measurement over (seen: chapter 4's 4.03 s against <= 4 s, lab 5's predicted liveness
# kill), or that add nodes other notebooks would see (chapter 7's KWOK nodes): they run one at a
# time after the others.
# Chapter 5's first TCP probes once met "i/o timeout" after chapter 4: the local provider's
# bridge kept a reused pod IP's old neighbour entry. It uses kind's ptp now (issue 20's note).
ALONE = ["book/03-lifecycle-hooks.ipynb", "book/04-stopping-and-starting.ipynb", "labs/03-lifecycle-hooks.ipynb",
         "book/05-probes.ipynb", "labs/05-probes.ipynb", "book/07-nodes-and-scheduling.ipynb",
         "labs/07-nodes-and-scheduling.ipynb"]


def _pytest(*args: str) -> int:
    command = [sys.executable, "-m", "pytest", *args]
    print(f"run_tests: {' '.join(command[1:])}", flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


def _run(*command: str) -> int:
    print(f"run_tests: {' '.join(command)}", flush=True)
    started = time.monotonic()
    code = subprocess.run([sys.executable, *command], cwd=ROOT).returncode
    print(f"run_tests: {' '.join(command)}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
    return code


def all_notebooks() -> list[str]:
    """Every notebook of the book and the labs, as paths relative to the repository."""
    return sorted(split(["book", "labs"])[0])


def split(paths: list[str]) -> tuple[list[str], list[str]]:
    """The notebooks these paths name (folders such as book and labs expanded), and the other paths."""
    notebooks, others = [], []
    for path in paths:
        inside = sorted(str(p.relative_to(ROOT)) for p in (ROOT / path).glob("*.ipynb")) if (ROOT / path).is_dir() else []
        if path.endswith(".ipynb"):
            notebooks.append(path)
        elif inside:
            notebooks += inside
        else:
            others.append(path)
    return notebooks, others


def staged(paths: list[str], argv: list[str]) -> list[int]:
    """Steps 2-4 for these paths: notebooks outside ALONE side by side, ALONE's one at a time, then the tests."""
    notebooks, tests = split(paths)
    side = [p for p in notebooks if p not in ALONE]
    alone = [n for n in ALONE if n in notebooks]
    workers = os.environ.get("NOTEBOOK_WORKERS", "3")
    codes = []
    if side:
        codes.append(_pytest("-n", workers, "--dist", "loadfile", *side, *argv))
    if alone:
        codes.append(_pytest(*alone, *argv))
    if tests:
        codes.append(_pytest("-n", workers, "--dist", "load", "-m", "not timed", *tests, *argv))
        codes.append(_pytest("-m", "timed", *tests, *argv))
    return codes


def library_tests(argv: list[str]) -> list[int]:
    """Step 1: unit and site tests, the live tests side by side, then the `timed` and `alone` ones one at a time."""
    workers = os.environ.get("NOTEBOOK_WORKERS", "3")
    serial = "timed or alone"
    # --durations: where each live step's time goes, in every CI log.
    return [_pytest("tests/unit", "tests/site", *argv),
            _pytest("-n", workers, "--dist", "loadfile", "-m", f"not ({serial} or background)", "tests/live",
                    f"--ignore={EXERCISES}", "--durations=15", *argv),
            _pytest("-m", f"({serial}) and not background", "tests/live", f"--ignore={EXERCISES}",
                    "--durations=15", *argv)]


def start_background(argv: list[str]) -> subprocess.Popen:
    """The live tests marked `background` (they sleep on the server's clock) in a process of their own, now."""
    command = [sys.executable, "-m", "pytest", "-m", "background", "tests/live", f"--ignore={EXERCISES}", "-rA", *argv]
    print(f"run_tests: in the background: {' '.join(command[1:])} (PODLAB_SLOW_TESTS=1)", flush=True)
    out = tempfile.TemporaryFile("w+")  # shown when it is waited for, not interleaved with the steps' output
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PODLAB_SLOW_TESTS": "1"}, stdout=out,
                               stderr=subprocess.STDOUT)
    process.output = out  # type: ignore[attr-defined]
    return process


def finish_background(process: subprocess.Popen) -> int:
    """Wait for the background tests, print what they printed; their exit status."""
    code = process.wait()
    process.output.seek(0)  # type: ignore[attr-defined]
    print(process.output.read(), end="", flush=True)  # type: ignore[attr-defined]
    process.output.close()  # type: ignore[attr-defined]
    print(f"run_tests: the background tests: exit {code}", flush=True)
    return code


def _outcome(codes: list[int]) -> int:
    failed = [c for c in codes if c not in (0, NO_TESTS)]
    if failed:
        return failed[0]
    return NO_TESTS if all(c == NO_TESTS for c in codes) else 0


def _prepare_kind_beside() -> subprocess.Popen | None:
    """Start kindci --prepare, niced, with its output in the podlab cache's logs (None: kind left out)."""
    if not kind_wanted():
        return None
    sys.path.insert(0, str(ROOT / "helpers"))
    from podlab import paths  # the cache directory the builds use
    log = paths.cache_dir() / "logs" / PREPARE_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"run_tests: kind's own builds beside podlab up (niced; log: {log})", flush=True)
    with log.open("w") as out:
        return subprocess.Popen(["nice", "-n", "10", sys.executable, "-m", "podlab.cluster.kindci", "--prepare"],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def kind_wanted() -> bool:
    """Whether the kind part runs: always, unless PODLAB_TEST_KIND=0."""
    return os.environ.get("PODLAB_TEST_KIND", "1") != "0"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--staged"]:
        rest = argv[1:]
        paths = [a for a in rest if not a.startswith("-") and (ROOT / a.split("::")[0]).exists()]
        return _outcome(staged(paths, [a for a in rest if a not in paths]))
    if any(not a.startswith("-") and (ROOT / a.split("::")[0]).exists() for a in argv):
        return _pytest(*argv)  # the caller chose what to run
    up = argv[:1] == ["--up"]
    argv = argv[1:] if up else argv
    prepare = None
    if up:
        prepare = _prepare_kind_beside()
        code = _run("-m", "podlab.cli", "up")
        if code != 0:
            if prepare is not None:
                prepare.wait()
            return code
    codes = library_tests(argv)
    # after test_teardown (the last of step 1) brought the cluster back; beside the notebooks, which
    # take longer than its sleep
    background = start_background(argv)
    codes += [*staged([*all_notebooks(), EXERCISES], argv), finish_background(background)]
    if prepare is not None and prepare.wait() != 0:
        print(f"run_tests: kindci --prepare failed (exit {prepare.returncode}); the kind part builds again "
              "and reports", flush=True)
    if kind_wanted():
        codes.append(_run("-m", "podlab.cluster.kindci", *argv))
    else:
        print("run_tests: the kind part was left out (PODLAB_TEST_KIND=0)", flush=True)
    return _outcome(codes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
