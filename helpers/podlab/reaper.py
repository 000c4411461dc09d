"""Deletes a lab's namespace when the process that opened it dies, however it dies.

atexit handlers do not run when a kernel is killed, and nbval kills its kernels
(shutdown_kernel(now=True), i.e. SIGKILL). So each open lab has a small watcher process,
in its own session, blocked reading a pipe whose only write end belongs to the lab's
process. When that process exits for any reason, the kernel closes the pipe and the
watcher reads end-of-file: it deletes the namespace (only the incarnation it was given,
by uid) and exits. Closing the lab normally writes "closed" first, and the watcher
exits without doing anything. No polling: the watcher sleeps in read() until then.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DISMISS = b"closed\n"


class Reaper:
    """The watcher of one lab namespace; dismiss() it when the lab closes normally."""

    def __init__(self, namespace: str, uid: str, kubeconfig: Path | None) -> None:
        read_end, self._write_end = os.pipe()  # both non-inheritable: no other child keeps it open
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "podlab.reaper", namespace, uid, str(kubeconfig or "")],
                stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)  # outlives a kill of the kernel's process group
        finally:
            os.close(read_end)

    def dismiss(self) -> None:
        """Tell the watcher the lab was closed normally, and let it exit."""
        if self._write_end < 0:
            return
        try:
            os.write(self._write_end, DISMISS)
        finally:
            os.close(self._write_end)
            self._write_end = -1
        self._process.wait(timeout=10)


def main(argv: list[str]) -> None:
    """Wait for the lab's process to close the pipe; delete the namespace unless dismissed."""
    namespace, uid, kubeconfig = argv
    if sys.stdin.buffer.read() == DISMISS:  # blocks until "closed" or the process is gone
        return
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from .connect import connect
    from .session import CLOSE_GRACE_SECONDS

    core = client.CoreV1Api(connect(Path(kubeconfig) if kubeconfig else None))
    try:
        core.delete_namespace(namespace, body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid=uid)))
        core.delete_collection_namespaced_pod(namespace, grace_period_seconds=CLOSE_GRACE_SECONDS)
    except ApiException as e:
        if e.status not in (404, 409):  # already gone, or a newer incarnation: not ours
            raise


if __name__ == "__main__":
    main(sys.argv[1:])
