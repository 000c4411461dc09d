"""A pytest plugin for nbval 0.11: run notebooks as a student runs them in JupyterLab (classroom mode).

Enabled only by the test that runs labs as a student (tests/live/test_classroom_nbval.py), with
`-p nbval_student` (tests/ on PYTHONPATH) and a student's kubeconfig as KUBECONFIG; it refuses to
run without one.

- nbval sends a bare execute_request (jupyter_client's KernelClient.execute: no metadata).
  JupyterLab 4 sends each cell's metadata, its tags included, plus the cell's id
  (CodeCell.execute in packages/cells/src/widget.ts: `metadata = {...model.metadata, ...metadata,
  ...cellId}`). This plugin sends the request the same way, so podlab.classmode's input
  transformer sees the tags and a cell tagged `needs-cluster` prints its skip line.
- Such a cell is compared with that skip line (for this student's namespace), not with the
  output stored from a run with cluster rights.
- The other cells are compared with their stored outputs after tests/nbval-sanitize.cfg's masks
  and then its `student-regex`/`student-replace` pairs, which only this plugin reads (nbval reads
  only `regex`/`replace`, so a normal run never applies them). `<student-namespace>` in a
  student-regex stands for the student's namespace, escaped.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

from podlab.classmode import SKIP_TAG, Classroom, current_classroom, kubeconfig_files, skip_line

SANITIZE = Path(__file__).resolve().parent / "nbval-sanitize.cfg"
PLACEHOLDER = "<student-namespace>"


def student_patterns(text: str, namespace: str) -> list[tuple[str, str]]:
    """The student-regex/student-replace pairs of a sanitize file, the placeholder filled in."""
    pairs = re.findall(r"^student-regex: (.*)$\n^student-replace: ?(.*)$", text, flags=re.MULTILINE)
    return [(regex.replace(PLACEHOLDER, re.escape(namespace)), replace) for regex, replace in pairs]


def request_metadata(cell: Any) -> dict[str, Any]:
    """The execute request's metadata JupyterLab 4 sends for a cell: its metadata and its id."""
    metadata = copy.deepcopy(dict(cell.get("metadata") or {}))
    if cell.get("id"):
        metadata["cellId"] = cell["id"]
    return metadata


def _execute_with_metadata(kernel: Any, metadata: dict[str, Any]):
    """An execute_cell_input for nbval's RunningKernel that sends the cell's metadata as JupyterLab does."""

    def execute_cell_input(cell_input: str, allow_stdin: bool | None = None) -> str:
        content = {"code": cell_input, "silent": False, "store_history": False, "user_expressions": {},
                   "allow_stdin": bool(allow_stdin), "stop_on_error": False}
        msg = kernel.kc.session.msg("execute_request", content, metadata=metadata)
        kernel.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    return execute_cell_input


def pytest_configure(config: pytest.Config) -> None:
    classroom = current_classroom(kubeconfig_files(None))
    if classroom is None:
        raise pytest.UsageError("nbval_student runs notebooks as a student: set KUBECONFIG to a kubeconfig "
                                "that `podlab classroom create` wrote.")
    config.stash[_CLASSROOM] = classroom
    config.stash[_PATTERNS] = student_patterns(SANITIZE.read_text(), classroom.namespace)


_CLASSROOM = pytest.StashKey[Classroom]()
_PATTERNS = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    cell = getattr(item, "cell", None)
    kernel = getattr(getattr(item, "parent", None), "kernel", None)
    if cell is None or kernel is None:  # not an nbval cell
        return (yield)
    classroom = item.config.stash[_CLASSROOM]
    patterns = item.parent.sanitize_patterns
    for regex, replace in item.config.stash[_PATTERNS]:
        patterns.setdefault(regex, replace)  # after the file's own masks
    kernel.execute_cell_input = _execute_with_metadata(kernel, request_metadata(cell))
    tags = (cell.get("metadata") or {}).get("tags") or []
    if SKIP_TAG in tags and cell.get("execution_count") is not None:
        expected = copy.deepcopy(cell)
        expected.outputs = [nbformat.v4.new_output("stream", name="stdout", text=skip_line(classroom) + "\n")]
        item.cell = expected
    try:
        return (yield)
    finally:
        item.cell = cell
        del kernel.execute_cell_input
