"""How pods show in a notebook: one stable line instead of the model's full, ever-changing repr.

nbval compares every cell's output with the saved one, and it runs cells with
store_history=False, where a trailing `;` does not hide a cell's result. A cell ending
in `lab.wait_for_ready("demo")` would otherwise print a V1Pod full of uids, IPs and
timestamps. Only the notebook display changes: repr(), str() and print() are untouched.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from .livestatus import in_kernel


def pod_line(pod: client.V1Pod) -> str:
    """`pod/demo: Running, Ready=True`: the name, the phase and readiness."""
    status = pod.status or client.V1PodStatus()
    ready = next((c.status for c in status.conditions or [] if c.type == "Ready"), "Unknown")
    return f"pod/{pod.metadata.name}: {status.phase or 'Unknown'}, Ready={ready}"


def show_pods_briefly() -> None:
    """In a Jupyter kernel, display V1Pod values as pod_line() (idempotent; a no-op elsewhere)."""
    if not in_kernel():
        return
    from IPython import get_ipython

    plain = get_ipython().display_formatter.formatters["text/plain"]
    plain.for_type(client.V1Pod, _pretty_pod)


def _pretty_pod(pod: client.V1Pod, printer: Any, cycle: bool) -> None:
    printer.text(pod_line(pod))
