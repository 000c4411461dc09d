"""podlab: live Kubernetes labs about what a container in a pod can see.

    lab = podlab.open_lab("downward-api")          # namespace podlab-downward-api
    lab.apply(manifest); lab.wait_for_ready("demo")
    podlab.expect_equal("pod name file", lab.read_file("demo", "/etc/podinfo/name"), "demo\\n")

The public names below are imported on first use, so `import podlab` (and the CLI) stays
fast and never touches the cluster.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "open_lab": "session", "Lab": "session", "sweep_labs": "session",
    "wait_for_pod": "waiting", "wait_for_ready": "waiting", "wait_for_not_ready": "waiting",
    "wait_for_phase": "waiting", "wait_for_condition": "waiting", "wait_for_restarts": "waiting",
    "wait_for_deletion": "waiting", "wait_for_object": "waiting",
    "wait_for_objects": "waiting",
    "WaitTimeout": "waiting", "WaitFailed": "waiting",
    "exec_in_pod": "pods", "read_file": "pods", "logs": "pods", "ExecResult": "pods",
    "read_node_file": "nodefiles",
    "expect_equal": "assertions", "expect_same": "assertions", "expect_contains": "assertions", "expect_line": "assertions",
    "expect_at_least": "assertions", "expect_true": "assertions", "expect_match": "assertions",
    "Exercise": "exercises", "load_exercises": "exercises",
    "PodlabError": "errors",
}
# (Submodules named like their main function, podlab.events and podlab.connect, are not
# re-exported: importing the submodule would shadow the function on the package.)

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
    from .assertions import (expect_at_least, expect_contains, expect_equal, expect_line,
                             expect_match, expect_same, expect_true)
    from .errors import PodlabError
    from .exercises import Exercise, load_exercises
    from .nodefiles import read_node_file
    from .pods import ExecResult, exec_in_pod, logs, read_file
    from .session import Lab, open_lab, sweep_labs
    from .waiting import (WaitFailed, WaitTimeout, wait_for_condition, wait_for_deletion,
                          wait_for_not_ready, wait_for_object, wait_for_objects, wait_for_phase, wait_for_pod,
                          wait_for_ready, wait_for_restarts)
