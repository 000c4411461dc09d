"""The scheduling widget's pod and its fixed fallback (pure: chapter 7 runs the real scheduler)."""

from __future__ import annotations

import pytest

from podlab import scheduling
from podlab.errors import PodlabError
from podlab.images import LAB_IMAGE
from podlab.placement import NO_NODE, TIE, ChoiceResult, choice_manifest
from podlab.widgets import WIDGET_VIEW, choice_widget


class _Lab:
    session = "x7k2m"
    namespace = "podlab-ch07-x7k2m"


def test_the_pod_admits_only_the_two_shapes_of_this_session():
    pod = choice_manifest(_Lab(), ("small", "cpu-heavy"), cpu="500m", memory="1Gi")
    [term] = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [{"key": "podlab.dev/fake-node", "operator": "In", "values": ["small", "cpu-heavy"]}]
    assert pod["spec"]["tolerations"] == [{"key": "podlab.dev/fake-node", "operator": "Equal", "value": "x7k2m",
                                           "effect": "NoSchedule"}]
    [container] = pod["spec"]["containers"]
    assert container["image"] == LAB_IMAGE and container["imagePullPolicy"] == "IfNotPresent"
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"}}
    assert scheduling.pod_requests(pod).requested == scheduling.Resources(500, 1 << 30)


def test_a_pod_without_requests_has_no_resources_and_two_shapes_are_needed():
    assert "resources" not in choice_manifest(_Lab(), ("small", "large"))["spec"]["containers"][0]
    with pytest.raises(PodlabError, match="two different"):
        choice_manifest(_Lab(), ("small", "small"))


def _result(pod: scheduling.PodRequests, prediction: str, placed: str) -> ChoiceResult:
    nodes = [scheduling.node("small", "2", "4Gi"), scheduling.node("cpu-heavy", "8", "4Gi")]
    return ChoiceResult(("small", "cpu-heavy"), "500m", "1Gi", prediction, scheduling.expected_choice(pod, nodes), placed)


def test_the_summary_marks_the_prediction_without_asserting_it(capsys):
    _result(scheduling.requests(cpu="500m", memory="1Gi"), "small", "cpu-heavy").summary()
    out = capsys.readouterr().out
    assert "your prediction: small ✗ (the scores pick: cpu-heavy)" in out
    assert "the real scheduler put it on: cpu-heavy" in out
    _result(scheduling.requests(cpu="500m", memory="1Gi"), "cpu-heavy", "cpu-heavy").summary()
    assert "your prediction: cpu-heavy ✓" in capsys.readouterr().out


def test_no_node_and_tie_are_predictions_too():
    too_big = _result(scheduling.requests(cpu="64", memory="1Gi"), NO_NODE, NO_NODE)
    assert too_big.expected == NO_NODE
    nodes = [scheduling.node("medium-a", "4", "8Gi"), scheduling.node("medium-b", "4", "8Gi")]
    tie = ChoiceResult(("medium-a", "medium-b"), "500m", "4Gi", TIE,
                       scheduling.expected_choice(scheduling.requests(cpu="500m", memory="4Gi"), nodes), "medium-b")
    assert tie.expected == TIE


def test_a_figure_only_when_some_node_fits():
    assert _result(scheduling.requests(cpu="64", memory="1Gi"), NO_NODE, NO_NODE).plot() is None
    figure = _result(scheduling.requests(cpu="500m", memory="1Gi"), "small", "cpu-heavy").plot()
    assert [axis.get_title() for axis in figure.axes] == ["today: Fit + BalancedAllocation",
                                                          "the source: LeastRequested + Balanced"]


def test_the_widget_shows_a_fixed_fallback_that_names_what_to_do():
    widget = choice_widget(lab=None)
    bundle = widget._repr_mimebundle_()
    assert bundle["text/plain"] == widget.fallback_text() and "interactive in JupyterLab" in bundle["text/plain"]
    assert bundle["text/html"].startswith('<div class="podlab-widget-fallback"')
    assert "Measure" in bundle["text/plain"] and "next cell" in bundle["text/plain"]
    assert set(bundle) <= {"text/plain", "text/html", WIDGET_VIEW}
