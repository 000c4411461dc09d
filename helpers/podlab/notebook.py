"""How pods show in a notebook: one stable line instead of the model's full, ever-changing repr.

nbval compares every cell's output with the saved one, and it runs cells with
store_history=False, where a trailing `;` does not hide a cell's result. A cell ending
in `lab.wait("demo", podlab.ready)` would otherwise print a pod full of uids, IPs and
timestamps. KubeObject (what podlab returns) shows itself that way already; this also
covers the client's own V1Pod (a cell that calls the kubernetes client itself). Only the notebook display changes:
repr(), str() and print() are untouched.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from .livestatus import in_kernel
from .objects import pod_line

__all__ = ["pod_line", "show_pods_briefly"]


def show_pods_briefly() -> None:
    """In a Jupyter kernel, display V1Pod values as pod_line() (idempotent; a no-op elsewhere)."""
    if not in_kernel():
        return
    from IPython import get_ipython

    plain = get_ipython().display_formatter.formatters["text/plain"]
    plain.for_type(client.V1Pod, _pretty_pod)


def _pretty_pod(pod: client.V1Pod, printer: Any, cycle: bool) -> None:
    printer.text(pod_line(pod))
