"""Live: every rejection the API server sends for a reader's manifest ends in a hint that names the
field and the fix, also inside an exercise check."""

from __future__ import annotations

import pytest

import podlab
from podlab.exercises import Exercise, apply_answer
from podlab.images import LAB_IMAGE

pytestmark = pytest.mark.live


def pod(name: str, container: str) -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n"
            f"  - {{name: app, image: \"{LAB_IMAGE}\", imagePullPolicy: IfNotPresent{container}}}\n")


REJECTED = [  # (what is wrong, manifest, what the hint must say)
    ("unknown field", pod("typo", ", imagePullPolcy: Always"),
     ["'imagePullPolcy' is not a field of spec.containers", "kubectl explain pod.spec.containers"]),
    ("malformed quantity", pod("quantity", ", resources: {limits: {memory: 64Mx}}"),
     ["spec.containers[app].resources.limits.memory: '64Mx' is not a quantity", "64Mi"]),
    ("invalid name", pod("Bad_Name", ""),
     ["metadata.name: use only lowercase letters, digits and '-'"]),
]


@pytest.mark.parametrize("wrong, manifest, hint", REJECTED, ids=[r[0] for r in REJECTED])
def test_a_rejected_manifest_gets_a_hint_with_the_field_and_the_fix(live_cluster, lab, wrong, manifest, hint):
    with pytest.raises(podlab.ApiRejected) as refused:
        lab.apply(manifest)
    for piece in hint:
        assert piece in (refused.value.hint or ""), f"{wrong}: {refused.value}"


def test_an_immutable_field_gets_a_hint_to_delete_first(live_cluster, lab):
    lab.apply(pod("fixed", ", command: [sleep, '3600']"))
    with pytest.raises(podlab.ApiRejected) as refused:
        lab.apply(pod("fixed", ", command: [sleep, '3601']"))
    assert refused.value.code == 422 and "lab.delete('fixed')" in refused.value.hint


def test_an_exercise_shows_the_hint_of_a_rejected_answer(live_cluster, lab, capsys):
    exercise = Exercise(id="t-rejected", title="Rejected", task="Apply it.", starter=REJECTED[1][1],
                        solution=pod("quantity", ""), hints=[], starter_fails_with="is not a quantity",
                        verify=apply_answer)
    exercise.check(lab, exercise.starter)
    out = capsys.readouterr().out
    assert "Not solved yet" in out and "→ spec.containers[app].resources.limits.memory: '64Mx' is not a quantity" in out
