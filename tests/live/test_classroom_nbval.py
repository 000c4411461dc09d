"""Live: labs 1-4 under nbval as a student (issue 23, "The labs as a student").

A course of one student (a unique name, deleted at the end whatever happened). nbval runs labs 1-4
in a subprocess with the student's kubeconfig as KUBECONFIG and the plugin tests/nbval_student.py,
which sends each cell's metadata with its execute request as JupyterLab 4 does: a cell tagged
needs-cluster must print its skip line (and is compared with it), every other cell must pass and
match its stored output under tests/nbval-sanitize.cfg (its student masks included). Afterwards
the student's namespace holds nothing of any session: the objects in it are those it held before
the labs ran, plus the progress ConfigMap the checks write to.
"""

from __future__ import annotations

import os
import random
import string
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from podlab import classroom
from podlab.classprogress import PROGRESS_CONFIGMAP
from podlab.ownership import SESSION_LABEL, served_resources, session_objects

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
LABS = ROOT / "labs"
NOTEBOOKS = [LABS / name for name in ("01-downward-api.ipynb", "02-pod-basics.ipynb",
                                      "03-lifecycle-hooks.ipynb", "04-stopping-and-starting.ipynb")]
SETTLE = 60  # seconds for the garbage collector to remove what goes with a deleted object (Endpoints)


@pytest.fixture(scope="module")
def student(live_cluster, tmp_path_factory):
    """A course of one student; deleted at the end, whatever happened."""
    name = "t-cnb-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
    out = tmp_path_factory.mktemp("kubeconfigs")
    try:
        # cpu_overcommit: other tests' pods request CPU beside these (see test_classroom.py)
        (one,) = classroom.create(live_cluster, name, classroom.roster(name, students=1), out=out, labs=LABS,
                                  cpu_overcommit=8)
        yield one
    finally:
        classroom.delete(live_cluster, name, out=out)


def namespace_objects(api, namespace: str, resources) -> set[str]:
    """kind/name of every object in the namespace (events left out: the cluster writes them)."""
    return {f"{r.kind}/{obj['metadata']['name']}" for r, obj in session_objects(api, namespace, "", resources)
            if r.kind != "Event"}


@pytest.mark.timed  # lab 3 asserts timing bounds that CPU beside it can push over (it is in run_tests.py's ALONE)
def test_labs_1_to_4_pass_under_nbval_as_a_student(live_cluster, student, tmp_path):
    resources = served_resources(live_cluster)
    before = namespace_objects(live_cluster, student.namespace, resources)
    cells = sum(1 for nb in NOTEBOOKS for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code")
    tagged = sum(1 for nb in NOTEBOOKS for c in nbformat.read(nb, as_version=4).cells
                 if c.cell_type == "code" and "needs-cluster" in (c.metadata.get("tags") or []))
    report = tmp_path / "nbval.xml"
    env = {**os.environ, "KUBECONFIG": str(student.kubeconfig),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))}
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "nbval_student",
                          "--junitxml", str(report), "-q", *map(str, NOTEBOOKS)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    took = time.monotonic() - started
    print(f"labs 1-4 under nbval as {student.namespace}: {took:.0f} s; {tagged} of {cells} cells tagged needs-cluster")
    print(run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:]
    suite = ET.parse(report).getroot().find("testsuite")
    counts = {key: int(suite.get(key)) for key in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": cells, "failures": 0, "errors": 0, "skipped": 0}, counts
    assert tagged > 0  # lab 3's hostPath cells: each passed only by printing its skip line (the plugin compares so)

    # what a lab's close deleted may take its dependents a moment longer (Endpoints go after their Service)
    progress = {f"ConfigMap/{PROGRESS_CONFIGMAP}"}
    deadline = time.monotonic() + SETTLE
    while True:
        left = [f"{r.kind}/{obj['metadata']['name']}"
                for r, obj in session_objects(live_cluster, student.namespace, SESSION_LABEL, resources)]
        now = namespace_objects(live_cluster, student.namespace, resources)
        if (not left and now - before <= progress) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert left == [], left
    assert now - before <= progress, sorted(now - before)
    assert before - now == set(), sorted(before - now)


def test_a_lab_cut_short_under_nbval_leaves_nothing_after_its_kernel_is_killed(live_cluster, student, tmp_path):
    """Lab 2 up to its second pod, without its closing cell: nbval kills the kernel at the end (no close),
    and the session's reaper deletes what the session made."""
    resources = served_resources(live_cluster)
    nb = nbformat.read(LABS / "02-pod-basics.ipynb", as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    last = next(i for i in code if 'lab.apply("02-pod-basics/batch-with-regular-shipper.yaml")' in nb.cells[i].source)
    nb.cells = nb.cells[:last + 1]
    nbformat.write(nb, tmp_path / "02-pod-basics.ipynb")
    (tmp_path / "02-pod-basics").symlink_to(LABS / "02-pod-basics")
    env = {**os.environ, "KUBECONFIG": str(student.kubeconfig),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "nbval_student",
                          "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), "-q",
                          str(tmp_path / "02-pod-basics.ipynb")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-10000:] + run.stderr[-3000:]
    deadline = time.monotonic() + 120  # the reaper notices the dead kernel within seconds, then deletes
    while True:
        left = [f"{r.kind}/{obj['metadata']['name']}"
                for r, obj in session_objects(live_cluster, student.namespace, SESSION_LABEL, resources)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert left == [], left
