"""Exercises: a task, a starter to edit, hints revealed one by one, and a live check.

An exercise module (e.g. labs/01-downward-api/exercises.py) defines Exercise objects at
module level; load_exercises() finds them. In a notebook:

    ex.show_task()            # what to do, and the starter to copy
    ex.check(lab, answer)     # applies the answer in the lab and checks live behaviour
    ex.hint()                 # the next hint
    ex.show_solution()        # prints one working answer (never applies it)

A starter or solution is usually manifest text (read from a YAML file beside the lab); a
predict-then-observe exercise uses a dict of predictions instead. Every exercise names the
failure its starter must produce (starter_fails_with), and tests/live/test_exercises.py
proves on a live cluster that the starter fails with exactly that and the solution passes.

Writing a lab's exercises.py: everything an author needs is here or at the top level.

    Exercise(id, title, task, starter, solution, hints, starter_fails_with, verify)
    verify(lab, answer): apply_answer(lab, answer), lab.wait(...) with the top level's conditions,
        then its expect_* claims. An AssertionError is a wrong answer (a verify turns a WaitTimeout
        the answer caused into one, saying what the pod did); any other error is the cluster's
    require_pod(answer, name), require_container(spec, pod, name): the answer's pod and container,
        or an AssertionError that says what is missing
    container_status(pod, name): a container's status in a pod as served
    require_predictions(answer, keys, how=...), compare_predictions(rows): a predict exercise
    podlab.podstate / podlab.timing: readers of a pod's state, and the timing helpers
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable, Iterable, Mapping, Sequence

from .checks import FAILED, PASSED, Check
from .errors import ApiRejected, PodlabError, is_environment_error
from .manifests import delete, load_manifests
from .timeouts import RESET_GRACE

if TYPE_CHECKING:
    from .session import Lab

EXERCISE_FILE = "exercises.py"


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
        delete(lab.namespace, objects, grace_period=RESET_GRACE, api=lab.api)


def load_exercises(path: str | Path) -> list[Exercise]:
    """The Exercise objects defined in an exercises module, or in every exercises.py under a directory."""
    path = Path(path)
    files = sorted(path.rglob(EXERCISE_FILE)) if path.is_dir() else [path]
    found: list[Exercise] = []
    for file in files:
        module = _import(file)
        found.extend(v for v in vars(module).values() if isinstance(v, Exercise))
    ids = [e.id for e in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PodlabError(f"Exercise ids must be unique; repeated: {', '.join(duplicates)}.")
    return found


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


def require_predictions(predictions: Any, keys: Iterable[str], *, how: str,
                        answered: Callable[[Any], bool] = lambda value: value is not None) -> None:
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
