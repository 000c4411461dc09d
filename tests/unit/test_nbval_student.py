"""tests/nbval_student.py and the student masks of tests/nbval-sanitize.cfg (pure logic)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
from nbval.plugin import get_sanitize_patterns

TESTS = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("nbval_student_under_test", TESTS / "nbval_student.py")
plugin = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = plugin
spec.loader.exec_module(plugin)

CFG = (TESTS / "nbval-sanitize.cfg").read_text()
STUDENT_NS = "course-a-student-01"


def sanitized(text: str, *, student: bool) -> str:
    """text as nbval compares it: the file's masks, then (as a student) the plugin's."""
    pairs = get_sanitize_patterns(CFG) + (plugin.student_patterns(CFG, STUDENT_NS) if student else [])
    for regex, replace in pairs:
        text = re.sub(regex, replace, text)
    return text


def test_nbval_itself_reads_none_of_the_student_masks():
    ours = plugin.student_patterns(CFG, STUDENT_NS)
    assert len(ours) == 2
    assert not {regex for regex, _ in get_sanitize_patterns(CFG)} & {regex for regex, _ in ours}
    assert "student" not in " ".join(regex for regex, _ in get_sanitize_patterns(CFG))


def test_a_students_open_lab_line_compares_equal_to_the_stored_one():
    stored = "lab downward-api: namespace podlab-downward-api-x7k2m on context podlab (local provider), Kubernetes v1.37.2\n"
    fresh = (f"lab downward-api: namespace {STUDENT_NS} (course course-a, session b4n7q) on context "
             f"podlab-classroom-{STUDENT_NS} (existing provider), Kubernetes v1.37.2\n")
    assert sanitized(stored, student=True) == sanitized(fresh, student=True)
    assert sanitized(stored, student=False) != sanitized(fresh, student=False)  # a normal run keeps them apart


def test_the_students_namespace_is_masked_only_whole_and_only_as_a_student():
    line = f"$ kubectl apply --server-side -n {STUDENT_NS} -f 01-downward-api/pod.yaml"
    assert sanitized(line, student=True) == "$ kubectl apply --server-side -n <namespace> -f 01-downward-api/pod.yaml"
    assert sanitized(line, student=False) == line
    assert sanitized(f"{STUDENT_NS}0", student=True) == f"{STUDENT_NS}0"
    other = "lab x: namespace podlab-x-b4n7q"
    assert sanitized(other, student=False) == "lab x: namespace podlab-x-<session>"


def test_the_request_carries_the_cells_metadata_and_id_as_jupyterlab_sends_them():
    cell = nbformat.v4.new_code_cell("print(1)", metadata={"tags": ["needs-cluster"], "editable": True})
    sent = plugin.request_metadata(cell)
    assert sent == {"tags": ["needs-cluster"], "editable": True, "cellId": cell.id}
    sent["tags"].append("x")
    assert cell.metadata["tags"] == ["needs-cluster"]  # a copy
