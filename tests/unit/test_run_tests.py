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
    monkeypatch.setattr(module, "_run", lambda *args: calls.append(["python", *args]) or (codes.pop(0) if codes else 0))
    monkeypatch.setattr(module, "start_background", lambda argv: calls.append(["background", *argv]) or "process")
    monkeypatch.setattr(module, "finish_background",
                        lambda process: calls.append(["waited", process]) or (codes.pop(0) if codes else 0))
    monkeypatch.delenv("NOTEBOOK_WORKERS", raising=False)
    monkeypatch.delenv("PODLAB_TEST_KIND", raising=False)
    return module, calls, codes


def test_live_tests_side_by_side_then_alone_then_background_beside_the_notebooks_then_kind(run_tests):
    module, calls, _ = run_tests
    assert module.main(["-x"]) == 0
    side = [n for n in module.all_notebooks() if n not in module.ALONE]
    assert side and set(module.ALONE) <= set(module.all_notebooks())
    assert calls == [["tests/unit", "tests/site", "-x"],
                     ["-n", "3", "--dist", "loadfile", "-m", "not (timed or alone or background)", "tests/live",
                      f"--ignore={module.EXERCISES}", "--durations=15", "-x"],
                     ["-m", "(timed or alone) and not background", "tests/live", f"--ignore={module.EXERCISES}",
                      "--durations=15", "-x"],
                     ["background", "-x"],
                     ["-n", "3", "--dist", "loadfile", *side, "-x"],
                     [*module.ALONE, "-x"],
                     ["-n", "3", "--dist", "load", "-m", "not timed", module.EXERCISES, "-x"],
                     ["-m", "timed", module.EXERCISES, "-x"],
                     ["waited", "process"],
                     ["python", "-m", "podlab.cluster.kindci", "-x"]]
    assert all((SCRIPT.parents[1] / n).is_file() for n in module.ALONE)


def test_given_paths_run_once_as_given(run_tests):
    module, calls, _ = run_tests
    assert module.main(["tests/unit", "-q"]) == 0
    assert calls == [["tests/unit", "-q"]]


def test_a_failure_in_either_run_fails_and_no_tests_in_one_is_fine(run_tests):
    module, calls, codes = run_tests
    codes += [0, 0, 0, 1, 0, 0, 0, 0, 0]  # the side-by-side notebooks failing
    assert module.main([]) == 1
    codes += [0, 0, 1, 0, 0, 0, 0, 0, 0]  # a live test marked timed or alone failing
    assert module.main([]) == 1
    codes += [0, 0, 0, 0, 0, 0, 1, 0, 0]  # the timed exercise tests alone failing
    assert module.main([]) == 1
    codes += [0, 0, 0, 0, 0, 0, 0, 1, 0]  # the background tests failing
    assert module.main([]) == 1
    codes += [0, 0, 0, 0, 0, 0, 0, 0, 2]  # the kind part alone failing fails make test
    assert module.main([]) == 2
    codes += [5, 5, 5, 0, 5, 5, 5, 5, 0]
    assert module.main(["-k", "notebook"]) == 0
    codes += [5, 5, 5, 5, 5, 5, 5, 5, 5]
    assert module.main(["-k", "nothing"]) == 5


def test_kind_part_left_out_only_when_asked_and_says_so(run_tests, monkeypatch, capsys):
    module, calls, _ = run_tests
    monkeypatch.setenv("PODLAB_TEST_KIND", "0")
    assert module.main([]) == 0
    assert not any("podlab.cluster.kindci" in call for call in calls)
    assert "kind part was left out (PODLAB_TEST_KIND=0)" in capsys.readouterr().out


def test_up_brings_the_cluster_up_first_and_stops_when_it_cannot(run_tests, monkeypatch):
    module, calls, codes = run_tests
    monkeypatch.setenv("PODLAB_TEST_KIND", "0")  # no kindci --prepare beside it in a unit test
    codes += [1]
    assert module.main(["--up"]) == 1
    assert calls == [["python", "-m", "podlab.cli", "up"]]


def test_staged_runs_notebooks_side_by_side_then_alone_ones_then_the_tests(run_tests):
    module, calls, _ = run_tests
    side, alone = "book/01-what-a-container-knows.ipynb", module.ALONE[0]
    assert module.main(["--staged", side, alone, "tests/live/test_exercises.py", "-x"]) == 0
    assert calls == [["-n", "3", "--dist", "loadfile", side, "-x"],
                     [alone, "-x"],
                     ["-n", "3", "--dist", "load", "-m", "not timed", "tests/live/test_exercises.py", "-x"],
                     ["-m", "timed", "tests/live/test_exercises.py", "-x"]]


def test_staged_expands_the_notebook_folders(run_tests):
    module, calls, _ = run_tests
    assert module.main(["--staged", "book", "labs"]) == 0
    assert calls == [["-n", "3", "--dist", "loadfile", *[n for n in module.all_notebooks() if n not in module.ALONE]],
                     module.ALONE]


def test_kindci_stages_its_default_tests_through_run_tests():
    import sys
    from podlab.cluster import kindci
    command = kindci.test_command(["-x"])
    assert command[:3] == [sys.executable, str(SCRIPT), "--staged"]
    assert command[-2:] == ["tests/live/test_exercises.py::test_solution_passes", "-x"]
    assert kindci.test_command(["book/01-what-a-container-knows.ipynb"])[1:3] == ["-m", "pytest"]
