"""Live, in a real Jupyter kernel: outputs are identical run after run, and the lab is deleted
when the kernel shuts down even though the notebook never closed it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from kubernetes import client
from nbclient import NotebookClient

from podlab.connect import connection, server_version
from podlab.images import LAB_IMAGE
from podlab.waiting import wait_for_deletion

pytestmark = pytest.mark.live

CELLS = [
    "import podlab\nlab = podlab.open_lab('t-notebook')\nlab",
    f"""lab.apply('''
apiVersion: v1
kind: Pod
metadata: {{name: demo}}
spec:
  containers:
  - {{name: app, image: "{LAB_IMAGE}", imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}}
''')""",
    "lab.wait_for_ready('demo')",  # no `;`: it would not hide the result under nbval anyway
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


def test_outputs_are_stable_and_shutdown_deletes_the_lab(live_cluster, tmp_path):
    saved = tmp_path / "lab.ipynb"
    first = run_notebook(saved)
    # The kernel is gone; its exit handler must have deleted the namespace (deletion is
    # asynchronous: it may still be terminating, but it must finish without us).
    wait_for_deletion(None, "podlab-t-notebook", kind="Namespace", timeout=60)

    # What CI does: nbval re-runs the saved notebook and compares every output.
    nbval = subprocess.run([sys.executable, "-m", "pytest", "--nbval", str(saved), "-q",
                            "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True)
    assert nbval.returncode == 0, nbval.stdout[-3000:]
    wait_for_deletion(None, "podlab-t-notebook", kind="Namespace", timeout=60)
    second = run_notebook()
    assert first == second
    texts = [[o.get("text") or o.get("data", {}).get("text/plain") for o in outputs] for outputs in first]
    chosen = connection()
    announce = (f"lab t-notebook: namespace podlab-t-notebook on context {chosen.context} "
                f"({chosen.provider} provider), Kubernetes {server_version(live_cluster)}\n")
    assert texts == [
        [None, announce, "Lab(namespace='podlab-t-notebook')"],  # None: a live status display, left empty
        ["applied pod/demo"],
        [None, "pod/demo: Running, Ready=True"],
        ["✓ hostname == 'demo\\n'\n"],
    ]
    namespace = client.CoreV1Api(live_cluster).read_namespace("podlab-t-notebook")
    assert namespace.metadata.deletion_timestamp is not None, "kernel shut down, lab not deleted"
    wait_for_deletion(None, "podlab-t-notebook", kind="Namespace", timeout=60)

    # What CI does: nbval re-runs the saved notebook and compares every output.
    nbval = subprocess.run([sys.executable, "-m", "pytest", "--nbval", str(saved), "-q",
                            "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True)
    assert nbval.returncode == 0, nbval.stdout[-3000:]
    wait_for_deletion(None, "podlab-t-notebook", kind="Namespace", timeout=60)
