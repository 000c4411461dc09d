"""Exercise discovery, hints, and what check() tells the reader (pure parts; live ones in tests/live)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from podlab.checks import FAILED, PASSED, Collector
from podlab.errors import ApiRejected, ClusterUnreachable, PodlabError
from podlab.exercises import Exercise, load_exercises, render

MODULE = '''
from podlab.assertions import expect_equal
from podlab.exercises import Exercise

def _verify(lab, answer):
    expect_equal("answer", answer.strip(), "42")

FIRST = Exercise(id="{first}", title="The answer", task="Give the answer.", starter="0",
                 solution="42", hints=["It is a number.", "Six times seven."],
                 starter_fails_with="answer: expected", verify=_verify)
SECOND = Exercise(id="second", title="Again", task="Again.", starter="0", solution="42",
                  hints=[], starter_fails_with="answer: expected", verify=_verify)
'''

ROOT = Path(__file__).resolve().parents[2]
LAB_EXERCISES = load_exercises(ROOT / "labs")


def write(directory: Path, first: str = "first") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "exercises.py").write_text(MODULE.format(first=first))
    return directory / "exercises.py"


def test_finds_exercises_in_definition_order_in_a_file_or_under_a_directory(tmp_path):
    file = write(tmp_path / "lab-a")
    assert [e.id for e in load_exercises(file)] == ["first", "second"]
    write(tmp_path / "lab-b", first="third")
    with pytest.raises(PodlabError, match="repeated: second"):
        load_exercises(tmp_path)


def test_hints_are_revealed_one_at_a_time(tmp_path, capsys):
    ex = load_exercises(write(tmp_path))[0]
    ex.hint(), ex.hint(), ex.hint()
    assert capsys.readouterr().out.splitlines() == [
        "Hint 1/2: It is a number.", "Hint 2/2: Six times seven.",
        "No more hints: ex.show_solution() shows one working answer."]


def test_check_reports_success_and_failure_without_raising(tmp_path, capsys):
    ex = load_exercises(write(tmp_path))[0]
    kept = Collector()
    lab = SimpleNamespace(namespace="podlab-unit", api=None, progress=kept)  # non-manifest answers: no cluster
    ex.check(lab, "41")
    ex.check(lab, "42")
    assert capsys.readouterr().out.splitlines() == [
        "✗ Not solved yet.",
        "  ✗ answer: expected '42'; observed '41'",
        "Try ex.hint() (2 left).",
        "✓ answer == '42'",
        "🎉 Exercise first solved",
    ]
    assert [(c.source, c.outcome) for c in kept.checks] == [("exercise first", FAILED), ("exercise first", PASSED)]
    assert kept.checks[0].observed == "✗ answer: expected '42'; observed '41'"


def test_an_error_of_the_cluster_raises_instead_of_calling_the_answer_unsolved(tmp_path, capsys):
    ex = load_exercises(write(tmp_path))[0]
    kept = Collector()
    lab = SimpleNamespace(namespace="podlab-unit", api=None, progress=kept)
    for error in (ClusterUnreachable("The API server at https://x did not answer"),
                  ApiRejected(403, "Forbidden", 'pods is forbidden: User "student" cannot create resource "pods"'),
                  ApiRejected(404, "NotFound", 'namespaces "podlab-unit" not found')):
        ex.verify = lambda lab, answer, error=error: (_ for _ in ()).throw(error)
        with pytest.raises(type(error)):
            ex.check(lab, "42")
    # a refusal about the answer itself is the reader's to fix: a failed check, not an error
    ex.verify = lambda lab, answer: (_ for _ in ()).throw(
        ApiRejected(422, "Invalid", 'Pod "x" is invalid: spec.containers[0].resources.limits.memory: Invalid value'))
    ex.check(lab, "42")
    assert "Not solved yet" in capsys.readouterr().out
    assert [c.outcome for c in kept.checks] == [FAILED]


def test_task_shows_title_task_and_starter_but_repr_hides_the_solution(tmp_path, capsys):
    ex: Exercise = load_exercises(write(tmp_path))[0]
    ex.show_task()
    assert capsys.readouterr().out == "Exercise first: The answer\n\nGive the answer.\n\nStarter:\n0\n"
    assert "42" not in repr(ex)


def test_an_exercise_must_name_the_failure_its_starter_is_meant_to_produce():
    fields = dict(id="x", title="X", task="Do x.", starter="0", solution="1", hints=[], verify=print)
    with pytest.raises(TypeError, match="starter_fails_with"):
        Exercise(**fields)  # a required field
    with pytest.raises(PodlabError, match="starter_fails_with"):
        Exercise(**fields, starter_fails_with="  ")


def test_there_are_lab_exercises():
    assert LAB_EXERCISES, "no exercises found under labs/"


@pytest.mark.parametrize("exercise", LAB_EXERCISES, ids=lambda e: e.id)
def test_every_lab_exercise_declares_why_its_starter_fails(exercise):
    assert isinstance(exercise.starter_fails_with, str) and exercise.starter_fails_with.strip()
    assert exercise.starter != exercise.solution
    assert exercise.hints, f"{exercise.id} has no hints"


def test_predictions_are_shown_as_python_and_never_treated_as_a_manifest(capsys):
    checked = []
    ex = Exercise(id="guess", title="Guess", task="Guess.", starter={"answer": None},
                  solution={"answer": 42, "sure": True}, hints=["Think."],
                  starter_fails_with="no prediction", verify=lambda lab, a: checked.append(a))
    ex.show_solution()
    assert capsys.readouterr().out == "{\n    'answer': 42,\n    'sure': True,\n}\n"
    lab = SimpleNamespace(progress=Collector())  # no cluster needed: a dict answer is not reset as a manifest
    ex.check(lab, {"answer": 42})
    assert checked == [{"answer": 42}] and lab.progress.checks[0].passed
    assert render("kind: Pod\n") == "kind: Pod"


def test_require_pod_names_what_the_answer_defines():
    from podlab.exercises import require_pod
    answer = "apiVersion: v1\nkind: Pod\nmetadata: {name: shop}\nspec: {containers: []}\n"
    assert require_pod(answer, "shop")["metadata"]["name"] == "shop"
    with pytest.raises(AssertionError, match=r"must define a Pod named 'cart' .*it defines \['shop'\]"):
        require_pod(answer, "cart")


def test_apply_answer_turns_a_rejection_into_a_failed_check_with_the_servers_words():
    from podlab.errors import ApiRejected
    from podlab.exercises import apply_answer

    def refuse(answer):
        raise ApiRejected(422, "Invalid", 'Pod "shop" is invalid: spec.containers[0].image: Required value')
    with pytest.raises(AssertionError, match=r"^✗ the API server rejected the manifest: "
                                             r"spec.containers\[0\].image: Required value$"):
        apply_answer(SimpleNamespace(apply=refuse), "…")


def test_compare_predictions_prints_one_aligned_line_each_and_names_the_wrong_ones(capsys):
    from podlab.exercises import compare_predictions
    rows = [("a-pod (exits)", ("Succeeded", "Completed"), ("Succeeded", "Completed"), True),
            ("b (crashes)", "Failed", "Running", False)]
    with pytest.raises(AssertionError, match=r"✗ 1 of 2 predictions differ from what the cluster did: b "):
        compare_predictions(rows)
    assert capsys.readouterr().out.splitlines() == [
        "✓ a-pod (exits)  predicted ('Succeeded', 'Completed'), observed ('Succeeded', 'Completed')",
        "✗ b (crashes)    predicted 'Failed', observed 'Running'"]
    compare_predictions([("c", True, True, True)], show=str)
    assert capsys.readouterr().out == "✓ c  predicted True, observed True\n"


def test_a_starter_or_solution_given_as_a_path_is_read_as_text(tmp_path):
    from pathlib import Path

    from podlab.exercises import Exercise
    (tmp_path / "s.yaml").write_text("kind: Pod\n")
    ex = Exercise(id="x", title="t", task="t", starter=Path(tmp_path / "s.yaml"), solution={"a": 1}, hints=[],
                  starter_fails_with="why", verify=lambda lab, answer: None)
    assert ex.starter == "kind: Pod\n" and ex.solution == {"a": 1}


def test_require_container_names_the_missing_container():
    from podlab.exercises import require_container
    spec = {"containers": [{"name": "app"}]}
    assert require_container(spec, "web", "app") == {"name": "app"}
    with pytest.raises(AssertionError, match="✗ pod web has no container named 'log': keep the starter's container"):
        require_container(spec, "web", "log")


def test_container_status_finds_init_and_regular_containers_and_is_empty_before_any():
    from podlab.exercises import container_status
    pod = {"status": {"initContainerStatuses": [{"name": "setup", "restartCount": 1}],
                      "containerStatuses": [{"name": "app", "ready": True}]}}
    assert container_status(pod, "setup") == {"name": "setup", "restartCount": 1}
    assert container_status(pod, "app")["ready"] is True
    assert container_status({"status": {}}, "app") == {} == container_status({}, "app")


def answer_cells() -> list[tuple[str, str, object]]:
    """(notebook, exercise id, what its answer cell assigns) for every '# Your answer/predictions' cell."""
    import json
    import re

    found = []
    for notebook in sorted((ROOT / "labs").glob("*.ipynb")):
        current = None
        for cell in json.loads(notebook.read_text())["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] != "code":
                continue
            named = re.search(r'exercises\["([^"]+)"\]', source)
            current = named[1] if named else current
            if source.startswith("# Your"):
                scope: dict = {}
                exec(compile(source, f"{notebook.name}: {current}", "exec"), {}, scope)  # assignments only
                (value,) = scope.values()
                found.append((notebook.name, current, value))
    return found


def test_each_answer_cell_is_a_copy_of_its_exercises_starter():
    cells = answer_cells()
    by_id = {e.id: e for e in LAB_EXERCISES}
    assert sorted(exercise for _, exercise, _ in cells) == sorted(by_id), "one answer cell per exercise"
    for notebook, exercise, value in cells:
        starter = by_id[exercise].starter
        if isinstance(starter, str):
            assert value.strip() == starter.strip(), f"{notebook}: the answer cell of {exercise} is not its starter"
        else:
            assert value == starter, f"{notebook}: the prediction cell of {exercise} is not its starter"


def test_predictions_are_checked_for_shape_before_anything_runs():
    from podlab.exercises import require_predictions

    keys = {"a": "first", "b": "second"}
    with pytest.raises(AssertionError, match=r"^✗ the answer must be a dict of predictions"):
        require_predictions(["a"], keys, how="x")
    with pytest.raises(AssertionError, match=r"^✗ unknown keys \['c'\]: keep the starter's keys \['a', 'b'\]$"):
        require_predictions({"a": 1, "b": 2, "c": 3}, keys, how="x")
    with pytest.raises(AssertionError, match=r"^✗ no prediction yet for b: write a number, then check again$"):
        require_predictions({"a": 1, "b": None}, keys, how="write a number")
    with pytest.raises(AssertionError, match=r"no prediction yet for a, b"):
        require_predictions({"a": "?", "b": 2}, keys, how="x", answered=lambda v: isinstance(v, bool))
    require_predictions({"a": 1, "b": 2}, keys, how="x")  # every key answered: no complaint


DECLARED_MODULE = '''
from podlab.assertions import expect_equal

BOUND = 12.5

def verify_answer(lab, answer):
    expect_equal("answer", answer, {"a": ("x", 1)})
'''

DECLARED = '''
- id: lab-one
  title: Within {BOUND:.0f} s
  task: |
    Keep $NAME and ${NAME} as they are; wait {BOUND} s.
  starter: one.starter.yaml
  solution: |
    {
        'a': ('x', 1),
    }
  hints:
  - >-
    First hint, folded
    onto one line.
  starter_fails_with: expected
  verify: verify_answer
'''


def declared_lab(tmp_path: Path, declarations: str = DECLARED) -> Path:
    (tmp_path / "exercises.py").write_text(DECLARED_MODULE)
    (tmp_path / "exercises.yaml").write_text(declarations)
    (tmp_path / "one.starter.yaml").write_text("kind: Pod\n")
    return tmp_path / "exercises.py"


def test_an_exercises_yaml_declares_the_exercises_and_the_module_holds_their_checks(tmp_path):
    (ex,) = load_exercises(declared_lab(tmp_path))
    assert (ex.id, ex.title) == ("lab-one", "Within 12 s")
    assert ex.task == "Keep $NAME and ${NAME} as they are; wait 12.5 s.\n"  # constants filled, a shell's text kept
    assert ex.hints == ["First hint, folded onto one line."]
    assert ex.starter == "kind: Pod\n"  # a file beside the module, read
    assert ex.solution == {"a": ("x", 1)}  # a Python literal, tuples and all
    assert ex.verify.__name__ == "verify_answer"
    ex.verify(None, ex.solution)


@pytest.mark.parametrize("change, error", [
    (("verify: verify_answer", "verify: verify_nothing"), "verify names 'verify_nothing', which"),
    (("{BOUND} s", "{BOUNDS} s"), r"the prose names \{BOUNDS\}, which the module does not define"),
    (("  starter_fails_with: expected\n", ""), "exactly the fields id, title, task, starter, solution, hints, "
                                               "starter_fails_with, verify"),
    (("one.starter.yaml", "\"{'a': \""), "neither a file beside the module nor a Python literal"),
])
def test_a_declaration_that_cannot_be_built_says_which_exercise_and_why(tmp_path, change, error):
    with pytest.raises(PodlabError, match=f"exercises.yaml, exercise lab-one: .*{error}"):
        load_exercises(declared_lab(tmp_path, DECLARED.replace(*change)))


def test_every_lab_declares_its_exercises_in_yaml_and_keeps_only_checks_in_python():
    from podlab.exercises import DECLARATIONS, EXERCISE_FILE
    for module in sorted((ROOT / "labs").glob(f"*/{EXERCISE_FILE}")):
        assert (module.parent / DECLARATIONS).is_file(), f"{module.parent.name} has no {DECLARATIONS}"
        assert "Exercise(" not in module.read_text(), f"{module}: declare exercises in {DECLARATIONS}"


def test_declarations_that_are_not_yaml_name_their_file(tmp_path):
    with pytest.raises(PodlabError, match=r"exercises.yaml is not valid YAML"):
        load_exercises(declared_lab(tmp_path, DECLARED.replace("one.starter.yaml", "{'a': ")))


def test_a_prediction_exercise_checks_the_shape_observes_and_compares(capsys):
    from podlab.exercises import Predictions, one_of

    seen = []

    def observe(lab):
        seen.append(lab)
        return {"pod-a": "Running", "pod-b": "Failed"}
    verify = Predictions({"pod-a": "restartPolicy Always", "pod-b": "restartPolicy Never"},
                         "write a phase for each pod", observe,
                         validate=one_of({"pod-a": ("Running", "Failed"), "pod-b": ("Running", "Failed")},
                                         say="a phase is Running or Failed"))
    with pytest.raises(AssertionError, match=r"^✗ no prediction yet for pod-b: write a phase for each pod, then"):
        verify("lab", {"pod-a": "Running", "pod-b": None})
    with pytest.raises(AssertionError, match=r"^✗ pod-b: a phase is Running or Failed$"):
        verify("lab", {"pod-a": "Running", "pod-b": "Done"})
    assert seen == [], "nothing is observed before the predictions have the right shape"
    with pytest.raises(AssertionError, match=r"✗ 1 of 2 predictions differ from what the cluster did: pod-b "):
        verify("lab", {"pod-a": "Running", "pod-b": "Running"})
    verify("lab", {"pod-a": "Running", "pod-b": "Failed"})
    assert capsys.readouterr().out.splitlines() == [
        "✓ pod-a (restartPolicy Always)  predicted 'Running', observed 'Running'",
        "✗ pod-b (restartPolicy Never)   predicted 'Running', observed 'Failed'",
        "✓ pod-a (restartPolicy Always)  predicted 'Running', observed 'Running'",
        "✓ pod-b (restartPolicy Never)   predicted 'Failed', observed 'Failed'"]
    assert seen == ["lab", "lab"]


def test_command_line_joins_command_and_args():
    from podlab.exercises import command_line
    assert command_line({"command": ["sh", "-c"], "args": ["sleep 3"]}) == "sh -c sleep 3"
    assert command_line({}) == ""
