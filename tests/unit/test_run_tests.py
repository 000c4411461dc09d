"""scripts/run_tests.py: the tests one at a time, then the notebooks side by side."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "run_tests.py"


@pytest.fixture
def run_tests(monkeypatch):
    spec = importlib.util.spec_from_file_location("run_tests", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls, codes = [], []
    monkeypatch.setattr(module, "_pytest", lambda *args: calls.append(list(args)) or (codes.pop(0) if codes else 0))
    monkeypatch.delenv("NOTEBOOK_WORKERS", raising=False)
    return module, calls, codes


def test_tests_serial_then_notebooks_one_file_per_worker(run_tests):
    module, calls, _ = run_tests
    assert module.main(["-x"]) == 0
    alone = [f"--deselect={n}" for n in module.ALONE]
    assert calls == [["tests/unit", "tests/live", "tests/site", "-x"],
                     ["-n", "3", "--dist", "loadfile", *alone, "book", "labs", "-x"],
                     [*module.ALONE, "-x"]]
    assert all((SCRIPT.parents[1] / n).is_file() for n in module.ALONE)


def test_given_paths_run_once_as_given(run_tests):
    module, calls, _ = run_tests
    assert module.main(["tests/unit", "-q"]) == 0
    assert calls == [["tests/unit", "-q"]]


def test_a_failure_in_either_run_fails_and_no_tests_in_one_is_fine(run_tests):
    module, calls, codes = run_tests
    codes += [0, 1, 0]
    assert module.main([]) == 1
    codes += [0, 0, 1]
    assert module.main([]) == 1
    codes += [5, 0, 5]
    assert module.main(["-k", "notebook"]) == 0
    codes += [5, 5, 5]
    assert module.main(["-k", "nothing"]) == 5
