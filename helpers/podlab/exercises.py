"""Exercises: a task, a starter to edit, hints revealed one by one, and a live check.

A lab's exercises are declarations, in exercises.yaml beside its exercises.py; the Python
module holds only the checks (verify). In a notebook:

    exercises = {ex.id: ex for ex in podlab.load_exercises("01-downward-api/exercises.py")}
    ex.show_task()            # what to do, and the starter to copy
    ex.check(lab, answer)     # applies the answer in the lab and checks live behaviour
    ex.hint()                 # the next hint
    ex.show_solution()        # prints one working answer (never applies it)

Writing a lab's exercises: everything an author needs is here or at the top level.

    exercises.yaml: a list of exercises, each with
        id, title, task, hints          prose ({NAME} or {NAME:.0f} is the module's constant NAME,
                                        so the prose and the check cannot drift apart; ${NAME} is text)
        starter, solution               a file beside the module (exN-*.starter.yaml), or a Python
                                        literal (a dict of predictions), as the reader copies it
        starter_fails_with              a piece of the message verify() raises on the starter
        verify                          the name of the check in exercises.py
    verify(lab, answer): apply_answer(lab, answer), lab.wait(...) with the top level's conditions,
        then its expect_* claims. An AssertionError is a wrong answer (a verify turns a WaitTimeout
        the answer caused into one, saying what the pod did); any other error is the cluster's
    Predictions(questions, how, observe, ...): the verify of a predict-then-observe exercise
    require_pod(answer, name), require_container(spec, pod, name): the answer's pod and container,
        or an AssertionError that says what is missing; command_line(container): its command and args
    container_status(pod, name): a container's status in a pod as served
    require_predictions(answer, keys, how=...), compare_predictions(rows): a prediction's parts
    podlab.podstate / podlab.timing: readers of a pod's state, and the timing helpers

tests/live/test_exercises.py proves on a live cluster that each starter fails with its
starter_fails_with and each solution passes; tests/unit/test_exercises_registry.py that each
notebook's answer cell is a copy of its exercise's starter.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable, Iterable, Mapping, Sequence

import yaml

from .checks import FAILED, PASSED, Check
from .errors import ApiRejected, PodlabError, is_environment_error
from .manifests import load_manifests
from .timeouts import RESET_GRACE

if TYPE_CHECKING:
    from .session import Lab

EXERCISE_FILE = "exercises.py"
DECLARATIONS = "exercises.yaml"  # beside EXERCISE_FILE: the exercises; the module holds their checks
_FIELDS = ("id", "title", "task", "starter", "solution", "hints", "starter_fails_with", "verify")
# {NAME} or {NAME:.0f} in the prose: the module's constant (a shell's ${NAME} stays as written)
_CONSTANT = re.compile(r"(?<!\$)\{([A-Z][A-Z0-9_]*)(:[^{}]*)?\}")


@dataclass(eq=False)
class Exercise:
    """One exercise. verify(lab, answer) applies the answer and asserts; it raises AssertionError
    (or PodlabError) when the answer does not do what the task asks.

    starter_fails_with is a piece of the message verify() raises on the starter: the reason
    the starter is meant to fail (say, "does not resolve"), so that a starter failing for
    some other reason (a typo in its YAML, a pod that never starts) is caught by the tests.
    """

    id: str
    title: str
    task: str
    starter: Any  # manifest text (or a Path to a YAML file, read here), or a dict of predictions
    solution: Any = field(repr=False)
    hints: list[str]
    starter_fails_with: str
    verify: Callable[[Lab, Any], None] = field(repr=False)
    hints_shown: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.starter, Path):
            self.starter = self.starter.read_text()
        if isinstance(self.solution, Path):
            self.solution = self.solution.read_text()
        if not isinstance(self.starter_fails_with, str) or not self.starter_fails_with.strip():
            raise PodlabError(f"Exercise {self.id}: starter_fails_with must name the failure the "
                              "starter is meant to produce (a piece of its message).")

    def show_task(self) -> None:
        """Print the task and the starter to copy into the answer cell."""
        print(f"Exercise {self.id}: {self.title}\n\n{self.task.strip()}\n\n"
              f"Starter:\n{render(self.starter)}")

    def hint(self) -> None:
        """Print the next hint (they build on each other)."""
        if self.hints_shown >= len(self.hints):
            print("No more hints: ex.show_solution() shows one working answer.")
            return
        self.hints_shown += 1
        print(f"Hint {self.hints_shown}/{len(self.hints)}: {self.hints[self.hints_shown - 1]}")

    def show_solution(self) -> None:
        """Print one working answer (it is not applied: ex.check(lab, ex.solution) checks it)."""
        print(render(self.solution))

    def check(self, lab: Lab, answer: Any) -> None:
        """Try the answer in the lab, print whether it solves the exercise, and record the verdict (a Check).

        A wrong answer never raises: it is a failed Check, with the reason and a nudge printed. An
        error of the cluster or the session (an unreachable API server, missing access, a lab
        namespace that is gone) raises, with its hint: it says nothing about the answer.
        """
        source = f"exercise {self.id}"
        try:
            self.reset(lab, answer)
            self.verify(lab, answer)
        except (AssertionError, PodlabError) as e:
            if is_environment_error(e):
                raise
            verdict = Check(f"{self.title} solved", FAILED, observed=str(e), source=source)
            left = len(self.hints) - self.hints_shown
            nudge = f"Try ex.hint() ({left} left)." if left else "ex.show_solution() shows one answer."
            print(f"✗ Not solved yet.\n{_indent(str(e))}\n{nudge}")
        else:
            verdict = Check(f"{self.title} solved", PASSED, source=source)
            print(f"🎉 Exercise {self.id} solved")
        lab.progress.record(verdict)

    def reset(self, lab: Lab, answer: Any) -> None:
        """Delete what a previous attempt at this answer created, so it can be applied afresh."""
        if not isinstance(answer, str):
            return  # predictions, not a manifest: verify() starts from a clean state itself
        try:
            objects = load_manifests(answer)
        except PodlabError:
            return  # not a manifest (or not valid yet): verify() will report it
        lab.delete(objects, grace_period=RESET_GRACE)  # (classroom mode: only this session's objects)


def load_exercises(path: str | Path) -> list[Exercise]:
    """The exercises of an exercises module (declared in exercises.yaml beside it), or of every one under a directory."""
    path = Path(path)
    files = sorted(path.rglob(EXERCISE_FILE)) if path.is_dir() else [path]
    found: list[Exercise] = []
    for file in files:
        module = _import(file)
        found.extend(v for v in vars(module).values() if isinstance(v, Exercise))
        declarations = file.with_name(DECLARATIONS)
        if declarations.is_file():
            found.extend(declared(declarations, module))
    ids = [e.id for e in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PodlabError(f"Exercise ids must be unique; repeated: {', '.join(duplicates)}.")
    return found


def declared(file: Path, module: Any) -> list[Exercise]:
    """The Exercises an exercises.yaml declares, their checks (verify) taken from the module beside it."""
    try:
        entries = yaml.safe_load(file.read_text())
    except yaml.YAMLError as e:
        raise PodlabError(f"{file} is not valid YAML: {e}") from None
    if not isinstance(entries, list):
        raise PodlabError(f"{file}: expected a list of exercises, one `- id: ...` entry each.")
    exercises = []
    for entry in entries:
        where = f"{file}, exercise {entry.get('id', '?') if isinstance(entry, dict) else '?'}"
        if not isinstance(entry, dict) or sorted(entry) != sorted(_FIELDS):
            have = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            raise PodlabError(f"{where}: an exercise has exactly the fields {', '.join(_FIELDS)}; it has {have}.")
        verify = getattr(module, entry["verify"], None)
        if not callable(verify):
            raise PodlabError(f"{where}: verify names {entry['verify']!r}, which {file.parent.name}/"
                              f"{EXERCISE_FILE} does not define as a check (a function of lab and answer).")
        prose = {key: _fill(entry[key], module, where) for key in ("title", "task")}
        exercises.append(Exercise(
            id=entry["id"], **prose, hints=[_fill(h, module, where) for h in entry["hints"]],
            starter=_answer(entry["starter"], file.parent, where),
            solution=_answer(entry["solution"], file.parent, where),
            starter_fails_with=entry["starter_fails_with"], verify=verify))
    return exercises


def _fill(text: str, module: Any, where: str) -> str:
    """Prose with each {NAME} (or {NAME:spec}) replaced by the module's constant NAME."""
    def value(found: re.Match) -> str:
        if not hasattr(module, found[1]):
            raise PodlabError(f"{where}: the prose names {{{found[1]}}}, which the module does not define.")
        return format(getattr(module, found[1]), (found[2] or ":")[1:])
    return _CONSTANT.sub(value, text)


def _answer(value: Any, folder: Path, where: str) -> Any:
    """A starter or solution: the text of a file beside the module, or the Python literal written out."""
    if not isinstance(value, str):
        raise PodlabError(f"{where}: a starter or solution is a file name or a Python literal, in quotes or a block.")
    if re.fullmatch(r"[\w.-]+\.ya?ml", value.strip()):
        return (folder / value.strip()).read_text()
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError) as e:
        raise PodlabError(f"{where}: {value.strip()[:40]!r} is neither a file beside the module nor a "
                          f"Python literal ({e}).") from None


def require_pod(answer: Any, name: str) -> dict[str, Any]:
    """The Pod `name` an answer's manifest defines, as a dict; a check fails if it has none."""
    pods = {o["metadata"]["name"]: o for o in load_manifests(answer) if o.get("kind") == "Pod"}
    if name not in pods:
        raise AssertionError(f"✗ the manifest must define a Pod named {name!r} "
                             f"(keep the starter's name); it defines {sorted(pods) or 'no pod'}")
    return pods[name]


def require_container(spec: dict[str, Any], pod: str, name: str) -> dict[str, Any]:
    """The container `name` of a pod spec (as a dict); a check fails if the answer dropped or renamed it."""
    for container in spec.get("containers") or []:
        if container.get("name") == name:
            return container
    raise AssertionError(f"✗ pod {pod} has no container named {name!r}: keep the starter's container")


def command_line(container: Mapping[str, Any]) -> str:
    """A container's command and args of a manifest, joined by spaces (what a check searches for words)."""
    return " ".join(str(part) for part in (container.get("command") or []) + (container.get("args") or []))


def container_status(pod: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The status JSON of the container `name` (init or regular) of a pod as served; {} before it has one."""
    status = pod.get("status") or {}
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        if cs.get("name") == name:
            return cs
    return {}


def apply_answer(lab: Lab, answer: Any) -> None:
    """Apply an answer in the lab; a manifest the API server refuses fails the check with the server's words."""
    try:
        lab.apply(answer)
    except ApiRejected as e:
        # The server names the object first ("... (ns/name; /v1, Kind=Pod): .spec...." or
        # 'Pod "name" is invalid: spec....'): keep what it says about the manifest.
        said = e.message.rsplit("): ", 1)[-1].split(" is invalid: ", 1)[-1].strip()
        hint = f"\n  → {e.hint}" if e.hint else ""
        raise AssertionError(f"✗ the API server rejected the manifest: {said}{hint}") from None


def _given(value: Any) -> bool:
    return value is not None


def require_predictions(predictions: Any, keys: Iterable[str], *, how: str,
                        answered: Callable[[Any], bool] = _given) -> None:
    """Fail unless the answer is a dict with the starter's keys, each answered; `how` says what to write."""
    keys = list(keys)
    if not isinstance(predictions, dict):
        raise AssertionError("✗ the answer must be a dict of predictions: copy the starter and fill it in")
    unknown = sorted(set(predictions) - set(keys))
    if unknown:
        raise AssertionError(f"✗ unknown keys {unknown}: keep the starter's keys {keys}")
    missing = [key for key in keys if not answered(predictions.get(key))]
    if missing:
        raise AssertionError(f"✗ no prediction yet for {', '.join(missing)}: {how}, then check again")


def compare_predictions(rows: Sequence[tuple[str, Any, Any, bool]], *,
                        show: Callable[[Any], str] = repr, against: str = "observed") -> None:
    """Print `✓/✗ label  predicted …, observed …` per (label, predicted, answer, same); fail if any differ.

    against names where the answers come from: "observed" (the cluster did it), or e.g. "the rules
    give" when the reader predicts a rule's value and the cluster is checked against the rule.
    """
    width = max((len(label) for label, *_ in rows), default=0)
    wrong = []
    for label, predicted, answer, same in rows:
        print(f"{'✓' if same else '✗'} {label:<{width}}  predicted {show(predicted)}, {against} {show(answer)}")
        if not same:
            wrong.append(label.split(" (")[0])
    if wrong:
        source = "what the cluster did" if against == "observed" else against.removesuffix(" give")
        raise AssertionError(f"✗ {len(wrong)} of {len(rows)} predictions differ from {source}: "
                             f"{', '.join(wrong)} (the explanation follows the exercise)")


def _equal(key: str, predicted: Any, observed: Any) -> bool:
    return predicted == observed


@dataclass(frozen=True)
class Predictions:
    """The verify of a predict-then-observe exercise: check the answer's shape, observe, compare.

    questions maps each key of the answer to what it asks (its comparison line says `label`,
    formatted with key and question); how says what to write for an unanswered key; observe(lab)
    runs the experiment and returns a value per key; validate(predictions) may refuse a prediction
    that cannot be right in kind (a word outside the choices) before anything runs.
    """

    questions: Mapping[str, str]
    how: str
    observe: Callable[[Lab], Mapping[str, Any]]
    answered: Callable[[Any], bool] = _given
    validate: Callable[[Mapping[str, Any]], None] | None = None
    same: Callable[[str, Any, Any], bool] = _equal
    label: str = "{key} ({question})"
    show: Callable[[Any], str] = repr
    against: str = "observed"

    def __call__(self, lab: Lab, predictions: Any) -> None:
        require_predictions(predictions, self.questions, how=self.how, answered=self.answered)
        if self.validate is not None:
            self.validate(predictions)
        observed = self.observe(lab)
        compare_predictions([(self.label.format(key=key, question=question), predictions[key], observed[key],
                              self.same(key, predictions[key], observed[key]))
                             for key, question in self.questions.items()],
                            show=self.show, against=self.against)


def one_of(choices: Mapping[str, Sequence[str]], *, say: str) -> Callable[[Mapping[str, Any]], None]:
    """A validate for Predictions: each key's prediction is one of its choices, else `✗ keys: {say}`."""
    def validate(predictions: Mapping[str, Any]) -> None:
        odd = [key for key, allowed in choices.items() if predictions[key] not in allowed]
        if odd:
            raise AssertionError(f"✗ {', '.join(odd)}: {say}")
    return validate


def _import(file: Path):
    if not file.is_file():
        raise PodlabError(f"No exercise module at {file}.")
    name = "podlab_exercises." + re.sub(r"\W", "_", str(file.resolve().with_suffix("")))
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    return module


def render(value: Any) -> str:
    """A starter or solution as the reader should copy it: manifest text as it is, a dict as Python."""
    if isinstance(value, dict):
        return "{\n" + "".join(f"    {key!r}: {item!r},\n" for key, item in value.items()) + "}"
    return str(value).strip()


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
