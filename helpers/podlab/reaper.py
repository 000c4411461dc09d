"""Deletes what a lab session owns when the process that opened it dies, however it dies.

atexit handlers do not run when a kernel is killed, and nbval kills its kernels
(shutdown_kernel(now=True), i.e. SIGKILL). So each open lab has a small watcher process,
in its own session, blocked reading a pipe whose only write end belongs to the lab's
process. When that process exits for any reason, the kernel closes the pipe and the
watcher reads end-of-file: it removes the session's static pod files from the node
(podlab.staticpods.remove_orphans), deletes the namespace (only the incarnation it was given,
by uid), then every cluster-scoped object labelled with the session, releasing podlab.dev/
finalizers that would hold them (podlab.ownership), and exits once all are gone. A session in
classroom mode works in the student's namespace: there the watcher deletes only the objects
labelled with the session (ownership.remove_session_in), never the namespace. Closing the
lab normally writes "closed" first, and the watcher exits without doing anything; a close
that does not wait hands the rest over (closes the pipe without a word). No polling: the
watcher sleeps in read() until then.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DISMISS = b"closed\n"
SHARED = "shared-namespace"  # the session works in a namespace it does not own (classroom mode)


class Reaper:
    """The watcher of one lab session; dismiss() it when the lab closes normally."""

    def __init__(self, namespace: str, uid: str, session: str, kubeconfig: Path | None, *,
                 shared_namespace: bool = False) -> None:
        read_end, self._write_end = os.pipe()  # both non-inheritable: no other child keeps it open
        mode = [SHARED] if shared_namespace else []
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "podlab.reaper", namespace, uid, session, str(kubeconfig or ""), *mode],
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

    def hand_over(self) -> None:
        """Let the watcher finish the cleanup now, without waiting for it (as if this process had died)."""
        if self._write_end >= 0:
            os.close(self._write_end)
            self._write_end = -1


def main(argv: list[str]) -> None:
    """Wait for the lab's process to close the pipe; unless dismissed, delete what the session owns."""
    namespace, uid, session, kubeconfig, *mode = argv
    if sys.stdin.buffer.read() == DISMISS:  # blocks until "closed" or the process is gone
        return
    # Imported only now: the watcher stays small while it waits.
    from .connect import connect
    from .namespaces import delete_namespace
    from .ownership import remove_session, remove_session_in
    from .staticpods import remove_orphans

    api = connect(Path(kubeconfig) if kubeconfig else None)
    if mode == [SHARED]:  # classroom mode: the namespace is the student's; only the session's objects go
        remove_session_in(api, namespace, session)
        return
    try:  # before the namespace goes: its records and mirror pods are how the session's static pod files are found
        remove_orphans(api, [session])
    except Exception:  # nobody reads this process's output; what remains is still deleted below
        pass
    delete_namespace(api, namespace, uid=uid)  # first: the namespace's pods start stopping at once
    remove_session(api, session)


if __name__ == "__main__":
    main(sys.argv[1:])
