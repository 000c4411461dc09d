"""podlab: live Kubernetes labs about what a container in a pod can see.

    import podlab
    lab = podlab.open_lab("downward-api")          # namespace podlab-downward-api
    lab.apply(manifest)
    lab.wait("demo", podlab.ready)
    podlab.expect_equal("pod name file", lab.read_file("demo", "/etc/podinfo/name"), "demo")

Notebooks import only `podlab`; every public name is an attribute of the package (the
README's "The helper library in one screen" lists them). They are imported on first use,
so `import podlab` (and the CLI) stays fast and never touches the cluster.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    # the session and what it returns
    "open_lab": "session", "Lab": "session", "sweep_labs": "session", "lab_namespaces": "session",
    "KubeObject": "objects", "KubeObjects": "objects", "ExecResult": "pods",
    # waiting: Lab.wait(name, condition) and the conditions
    "WaitCondition": "conditions", "ready": "conditions", "not_ready": "conditions",
    "in_phase": "conditions", "has_condition": "conditions", "restarted": "conditions",
    "terminated": "conditions", "unschedulable": "conditions", "finished": "conditions",
    "exists": "conditions", "deleted": "conditions", "satisfies": "conditions",
    # the same wait as a function of a namespace, and the two no condition can express
    "wait_until": "waiting", "wait_for_objects": "waiting", "wait_for_event": "waiting",
    # looking inside pods, as functions of a namespace
    "exec_in_pod": "pods", "exec_until": "pods", "read_file": "pods", "logs": "pods",
    "read_node_file": "nodefiles", "Process": "pods",
    # reading a pod's state (no API call): for predicates and checks in notebooks
    "state_reason": "podstate", "is_ready": "podstate", "restart_count": "podstate", "waiting_reasons": "podstate",
    # predict, then measure: the kubelet's timing rules, real pods measured against them, widgets
    "ProbeSetup": "predict", "TerminationSetup": "predict", "probe_timing": "predict",
    "termination_outcome": "predict", "measure_probe": "measure", "measure_termination": "measure",
    "probe_widget": "widgets", "termination_widget": "widgets",
    # claims: each makes a Check (printed as one stable line by default)
    "Check": "checks", "expect_equal": "assertions", "expect_same": "assertions", "expect_contains": "assertions",
    "expect_line": "assertions", "expect_at_least": "assertions", "expect_true": "assertions",
    "expect_match": "assertions",
    # a pod's timeline: status, events and the containers' own marks (Lab.timeline)
    "Timeline": "timeline", "Moment": "timeline", "parse_marks": "timeline", "MARK_SHELL": "timeline",
    "Exercise": "exercises", "load_exercises": "exercises",
    # errors
    "PodlabError": "errors", "ApiRejected": "errors", "WaitFailed": "errors", "WaitTimeout": "errors",
    # constants
    "api_fields": "schema",
    "LAB_IMAGE": "images", "AGNHOST_IMAGE": "images", "NODE_SHARE_DIR": "images", "parse_quantity": "quantities",
    "POD_START": "timeouts", "DELETION": "timeouts", "EXEC": "timeouts", "EXEC_UNTIL": "timeouts",
}
# (Submodules named like their main function, podlab.events and podlab.connect, are not
# re-exported: importing the submodule would shadow the function on the package. For the
# same reason no submodule is named like an export: podlab.conditions, not podlab.ready.)

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'podlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from .checks import Check
    from .assertions import (expect_at_least, expect_contains, expect_equal, expect_line,
                             expect_match, expect_same, expect_true)
    from .conditions import (WaitCondition, deleted, exists, finished, has_condition, in_phase,
                             not_ready, ready, restarted, satisfies, terminated, unschedulable)
    from .errors import ApiRejected, PodlabError, WaitFailed, WaitTimeout
    from .exercises import Exercise, load_exercises
    from .images import AGNHOST_IMAGE, LAB_IMAGE, NODE_SHARE_DIR
    from .nodefiles import read_node_file
    from .objects import KubeObject, KubeObjects
    from .pods import ExecResult, Process, exec_in_pod, exec_until, logs, read_file
    from .podstate import is_ready, restart_count, state_reason, waiting_reasons
    from .quantities import parse_quantity
    from .schema import api_fields
    from .session import Lab, lab_namespaces, open_lab, sweep_labs
    from .timeline import MARK_SHELL, Moment, Timeline, parse_marks
    from .predict import ProbeSetup, TerminationSetup, probe_timing, termination_outcome
    from .measure import measure_probe, measure_termination
    from .widgets import probe_widget, termination_widget
    from .timeouts import DELETION, EXEC, EXEC_UNTIL, POD_START
    from .waiting import wait_for_event, wait_for_objects, wait_until
