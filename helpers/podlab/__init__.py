"""podlab: live Kubernetes labs about what a container in a pod can see.

    import podlab
    lab = podlab.open_lab("downward-api")          # namespace podlab-downward-api-<session>
    lab.apply(manifest)
    lab.wait("demo", podlab.ready)
    podlab.expect_equal("pod name file", lab.read_file("demo", "/etc/podinfo/name"), "demo")

The top level holds what every notebook uses: the session, the wait conditions, the claims,
the errors, the exercises and the images (the README's "The helper library in one screen").
What one chapter or one kind of reader needs lives in a submodule, reached as an attribute
(`podlab.timing.measure_probe`, no import needed):

    podlab.timing      predict, measure, widgets and a pod's timeline (chapters 3-5, labs 3-5)
    podlab.podstate    every reader of a pod's state (the top level has is_ready, restart_count, state_reason)
    podlab.exercises   for authors of a lab's exercises.py: Exercise and its helpers
    podlab.waiting     the same waits as functions of a namespace, wait_for_objects, wait_for_event
    podlab.cluster     cluster provisioning (the CLI, `podlab up`, uses it)

Names and submodules are imported on first use, so `import podlab` (and the CLI) stays fast
and never touches the cluster.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    # the session, and the object type everything it reads returns
    "open_lab": "session", "Lab": "session", "lab_namespaces": "session", "KubeObject": "objects",
    # reading a pod's state (no API call), for predicates and checks: the rest is in podlab.podstate
    "is_ready": "podstate", "restart_count": "podstate", "state_reason": "podstate",
    # Lab.wait(name, condition): the conditions
    "ready": "conditions", "not_ready": "conditions", "in_phase": "conditions",
    "has_condition": "conditions", "restarted": "conditions", "terminated": "conditions",
    "unschedulable": "conditions", "finished": "conditions", "exists": "conditions",
    "deleted": "conditions", "satisfies": "conditions",
    # claims: each makes a Check (printed as one stable line by default)
    "Check": "checks", "expect_equal": "assertions", "expect_same": "assertions",
    "expect_contains": "assertions", "expect_line": "assertions", "expect_at_least": "assertions",
    "expect_true": "assertions", "expect_match": "assertions",
    # errors
    "PodlabError": "errors", "ApiRejected": "errors", "WaitFailed": "errors", "WaitTimeout": "errors",
    # exercises
    "Exercise": "exercises", "load_exercises": "exercises",
    # images, the node directory pods share with lab.read_node_file, the API's field documentation
    "LAB_IMAGE": "images", "AGNHOST_IMAGE": "images", "NODE_SHARE_DIR": "images", "api_fields": "schema",
}
# Names that left the top level (issue 20), and where they are now: asking the package for one
# says where to find it.
_MOVED = {
    **dict.fromkeys(("ProbeSetup", "TerminationSetup", "probe_timing", "termination_outcome",
                     "measure_probe", "measure_termination", "probe_widget", "termination_widget",
                     "Timeline", "Moment", "parse_marks", "MARK_SHELL"), "timing"),
    "waiting_reasons": "podstate",
    **dict.fromkeys(("wait_until", "wait_for_objects", "wait_for_event"), "waiting"),
    **dict.fromkeys(("exec_in_pod", "exec_until", "read_file", "logs", "ExecResult", "Process"), "pods"),
    "read_node_file": "nodefiles", "WaitCondition": "conditions", "KubeObjects": "objects",
    "sweep_labs": "session", "parse_quantity": "quantities",
    **dict.fromkeys(("POD_START", "DELETION", "EXEC", "EXEC_UNTIL"), "timeouts"),
}
# (Submodules named like their main function, podlab.events and podlab.connect, are not
# re-exported: importing the submodule would shadow the function on the package. For the
# same reason no submodule is named like an export: podlab.conditions, not podlab.ready.)

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f".{name}", __name__)  # a submodule: podlab.timing, ...
    elif name in _MOVED:
        raise AttributeError(f"podlab.{name} is now podlab.{_MOVED[name]}.{name} "
                             f"(the top level keeps only what every notebook uses)")
    else:
        raise AttributeError(f"module 'podlab' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from . import cluster, conditions, exercises, podstate, timing, waiting
    from .checks import Check
    from .assertions import (expect_at_least, expect_contains, expect_equal, expect_line,
                             expect_match, expect_same, expect_true)
    from .conditions import (deleted, exists, finished, has_condition, in_phase, not_ready, ready,
                             restarted, satisfies, terminated, unschedulable)
    from .errors import ApiRejected, PodlabError, WaitFailed, WaitTimeout
    from .exercises import Exercise, load_exercises
    from .images import AGNHOST_IMAGE, LAB_IMAGE, NODE_SHARE_DIR
    from .objects import KubeObject
    from .podstate import is_ready, restart_count, state_reason
    from .schema import api_fields
    from .session import Lab, lab_namespaces, open_lab
