"""Predict, then run the real scheduler: one pod between two of this session's fake nodes (chapter 7).

    result = placement.measure_choice(lab, ("small", "cpu-heavy"), cpu="500m", memory="1Gi", prediction="small")
    result.summary()                      # the reader's prediction (✓ or ✗), the scores, the real choice
    result.plot()                         # each node's total today and in the source's 0-10 scale

The expected choice is computed with podlab.scheduling from the two Nodes as served and the pods
bound to them, before the pod exists; then the pod is created, the default scheduler places it,
and it is deleted again (the call returns once it is gone). The pod requires the nodes' shape label
(`podlab.dev/fake-node`, the fake-node manifests' own) and tolerates this session's fake-node taint,
so only the two chosen nodes pass the filters. The widget that lets a reader choose is
podlab.widgets.choice_widget.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import scheduling
from .errors import PodlabError
from .images import LAB_IMAGE

if TYPE_CHECKING:
    from .session import Lab

CHOICE_POD = "choice"
SHAPE_LABEL = "podlab.dev/fake-node"
TIE = "a tie"
NO_NODE = "no node"


def choice_manifest(lab: Any, shapes: Sequence[str], *, cpu: str | None = None, memory: str | None = None,
                    name: str = CHOICE_POD) -> dict[str, Any]:
    """A pod that only this session's fake nodes of these two shapes admit, with these requests."""
    from .fakenodes import toleration

    if len(shapes) != 2 or shapes[0] == shapes[1]:
        raise PodlabError(f"Choose two different fake nodes, not {list(shapes)}.",
                          hint="Pass two shapes, e.g. ('small', 'cpu-heavy').")
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container: dict[str, Any] = {"name": "app", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                                 "command": ["sleep", "3600"]}
    if requests:
        container["resources"] = {"requests": requests}
    term = {"matchExpressions": [{"key": SHAPE_LABEL, "operator": "In", "values": list(shapes)}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                         "nodeSelectorTerms": [term]}}},
                     "tolerations": [toleration(lab)], "terminationGracePeriodSeconds": 0,
                     "containers": [container]}}


def served_nodes(lab: Lab, shapes: Sequence[str]) -> list[scheduling.NodeState]:
    """This session's fake nodes of these shapes as served, with the pods bound to each, named by shape."""
    from .fakenodes import session_node_name

    states = []
    for shape in shapes:
        name = session_node_name(lab, f"kwok-{shape}")
        bound = json.loads(lab.request("GET", f"/api/v1/pods?fieldSelector=spec.nodeName={name}").message)["items"]
        states.append(dataclasses.replace(scheduling.node_state(lab.get("Node", name), bound), name=shape))
    return states


@dataclass(frozen=True)
class ChoiceResult:
    """The reader's prediction, the expected choice computed before the pod existed, and where the scheduler put it."""

    shapes: tuple[str, str]
    cpu: str | None
    memory: str | None
    prediction: str | None
    choice: scheduling.Choice
    placed: str

    @property
    def expected(self) -> str:
        """The expected node's shape, or 'a tie'."""
        return TIE if self.choice.tie else (self.choice.winner or NO_NODE)

    def summary(self) -> None:
        """Print the setup, the prediction against the computed choice, the scores, and the real choice."""
        print(f"A pod requesting cpu={self.cpu or 'nothing'}, memory={self.memory or 'nothing'}, "
              f"between the fake nodes {self.shapes[0]} and {self.shapes[1]}")
        if self.prediction is None:
            print("  your prediction: none")
        else:
            mark = "✓" if self.prediction == self.expected else "✗"
            print(f"  your prediction: {self.prediction} {mark} (the scores pick: {self.expected})")
        for line in scheduling.format_choice(self.choice).splitlines():
            print(f"  {line}")
        real = "one of the tied nodes" if self.choice.tie and self.placed in self.choice.best else self.placed
        print(f"  the real scheduler put it on: {real}")

    def plot(self) -> Any:
        """Each feasible node's total score today (0-200) and the source's (0-20), side by side; None if no node fits."""
        if not self.choice.scores:
            return None   # both nodes filtered out: no score to draw (the summary says why)
        import matplotlib.pyplot as plt

        figure, (today, old) = plt.subplots(1, 2, figsize=(8, 2.2))
        names = [s.node for s in self.choice.scores]
        today.barh(names, [s.total for s in self.choice.scores], color="tab:blue")
        today.set_title("today: Fit + BalancedAllocation")
        old.barh(names, [s.old_total for s in self.choice.scores], color="tab:gray")
        old.set_title("the source: LeastRequested + Balanced")
        figure.tight_layout()
        plt.close(figure)
        return figure


def measure_choice(lab: Lab, shapes: Sequence[str], *, cpu: str | None = None, memory: str | None = None,
                   prediction: str | None = None) -> ChoiceResult:
    """Compute the expected node from the served nodes, then create the pod, read where it went, and delete it."""
    from .conditions import has_condition, unschedulable

    pod = choice_manifest(lab, shapes, cpu=cpu, memory=memory)
    choice = scheduling.expected_choice(scheduling.pod_requests(pod), served_nodes(lab, shapes))
    lab.apply(pod)
    try:
        if choice.scores:
            placed = lab.wait(CHOICE_POD, has_condition("PodScheduled"))
            shape = lab.get("Node", placed["spec"]["nodeName"])["metadata"]["labels"][SHAPE_LABEL]
        else:  # neither node has room: the scheduler must leave it Pending
            lab.wait(CHOICE_POD, unschedulable)
            shape = NO_NODE
    finally:
        lab.delete(CHOICE_POD)
    return ChoiceResult((shapes[0], shapes[1]), cpu, memory, prediction, choice, shape)
