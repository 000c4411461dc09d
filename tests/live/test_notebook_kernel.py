"""Live, in a real Jupyter kernel: outputs are identical run after run, and the lab is deleted
when the kernel shuts down even though the notebook never closed it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from kubernetes import client
from nbclient import NotebookClient

from podlab.connect import connection, server_version
from podlab.waiting import wait_for_objects
from shared_manifests import sleeper_pod

pytestmark = pytest.mark.live

CELLS = [
    "import podlab\nlab = podlab.open_lab('t-notebook')\nlab",
    f"lab.apply('''{sleeper_pod('demo')}''')",
    "lab.wait('demo', podlab.ready)",  # no `;`: it would not hide the result under nbval anyway
    "podlab.expect_equal('hostname', lab.read_file('demo', '/etc/hostname'), 'demo\\n')",
    # deliberately no lab.close(): the kernel's shutdown must clean up
]


def run_notebook(save_to: Path | None = None) -> list:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(nb, kernel_name="python3", timeout=180).execute()  # shuts the kernel down
    nbformat.validate(nb)
    if save_to:
        nbformat.write(nb, save_to)
    return [cell.outputs for cell in nb.cells]


SANITIZE = Path(__file__).resolve().parents[1] / "nbval-sanitize.cfg"


def no_session_left(lab: str, api) -> None:
    """Wait until no namespace of the lab is left (a killed kernel's exit handler or reaper deletes it)."""
    wait_for_objects(None, "Namespace", f"podlab.dev/lab={lab}", lambda found: not found,
                     description="gone (every session's namespace deleted)", timeout=60, api=api)


def test_outputs_are_stable_and_shutdown_deletes_the_lab(live_cluster, tmp_path):
    saved = tmp_path / "lab.ipynb"
    first = run_notebook(saved)
    # The kernel is gone; its exit handler must have deleted the namespace (deletion is
    # asynchronous: it may still be terminating, but it must finish without us).
    no_session_left("t-notebook", live_cluster)

    # What CI does: nbval re-runs the saved notebook and compares every output, the session masked.
    nbval = subprocess.run([sys.executable, "-m", "pytest", "--nbval", str(saved), "-q", "-p", "no:cacheprovider",
                            "--nbval-sanitize-with", str(SANITIZE)], cwd=tmp_path, capture_output=True, text=True)
    assert nbval.returncode == 0, nbval.stdout[-3000:]
    no_session_left("t-notebook", live_cluster)
    second = run_notebook()
    texts = [[o.get("text") or o.get("data", {}).get("text/plain") for o in outputs] for outputs in first]
    namespace = re.search(r"namespace (podlab-t-notebook-[a-z0-9]{5}) ", texts[0][1])[1]
    again = [[o.get("text") or o.get("data", {}).get("text/plain") for o in outputs] for outputs in second]
    other = re.search(r"namespace (podlab-t-notebook-[a-z0-9]{5}) ", again[0][1])[1]
    assert other != namespace                                   # a session of its own each run
    assert json.loads(json.dumps(again).replace(other, namespace)) == texts  # and nothing else differs
    chosen = connection()
    announce = (f"lab t-notebook: namespace {namespace} on context {chosen.context} "
                f"({chosen.provider} provider), Kubernetes {server_version(live_cluster)}\n")
    assert texts == [
        [None, announce, f"Lab(namespace='{namespace}')"],  # None: a live status display, left empty
        ["applied pod/demo"],
        [None, "pod/demo: Running, Ready=True"],
        ["✓ hostname == 'demo\\n'\n"],
    ]
    no_session_left("t-notebook", live_cluster)
