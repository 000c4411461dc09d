"""Looking inside a running pod: exec a command, read a file, read its logs."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from collections.abc import Sequence

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, STDERR_CHANNEL, STDOUT_CHANNEL

from ._api import api_error
from .connect import connect
from .errors import PodlabError

EXEC_TIMEOUT = 60.0


@dataclass(frozen=True)
class ExecResult:
    """What a command run in a container printed, and how it exited."""

    stdout: str
    stderr: str
    exit_code: int


def exec_in_pod(namespace: str, pod: str, command: str | Sequence[str], *,
                container: str | None = None, timeout: float = EXEC_TIMEOUT,
                api: client.ApiClient | None = None) -> ExecResult:
    """Run command in a container (a string runs under `sh -c`) and collect its output and exit code."""
    argv = ["sh", "-c", command] if isinstance(command, str) else list(command)
    where = f"pod {namespace}/{pod}" + (f" (container {container})" if container else "")
    # stream() temporarily swaps call_api on the client it is given, so a client shared
    # with other threads (a watch, a concurrent wait) would be hijacked: use a private one.
    with client.ApiClient((api or connect()).configuration) as private:
        try:
            session = stream(client.CoreV1Api(private).connect_get_namespaced_pod_exec, pod, namespace,
                             command=argv, container=container, stdin=False, stdout=True,
                             stderr=True, tty=False, _preload_content=False)
        except ApiException as e:
            raise api_error(e, f"running {argv!r} in {where}",
                            hint="Is the pod running? Wait for it first (wait_for_ready), "
                                 "and name the container if the pod has several.") from e
        try:
            session.run_forever(timeout=timeout)
            if session.is_open():
                raise PodlabError(f"{argv!r} in {where} was still running after {timeout:.0f}s.",
                                  hint="Pass a larger timeout=, or make the command end "
                                       "(e.g. `timeout 5 …`).")
            stdout = session.read_channel(STDOUT_CHANNEL)
            stderr = session.read_channel(STDERR_CHANNEL)
            status = session.read_channel(ERROR_CHANNEL)
        finally:
            session.close()
    return ExecResult(stdout=stdout, stderr=stderr, exit_code=exit_code_from_status(status, argv))


def exit_code_from_status(payload: str, argv: Sequence[str] = ()) -> int:
    """The exit code carried by the exec error channel's final Status (Success → 0)."""
    if not payload or not payload.strip():
        raise PodlabError(f"The exec of {list(argv)!r} ended without reporting an exit status.",
                          hint="The connection to the kubelet dropped; run the command again.")
    try:
        status = json.loads(payload)
    except ValueError:
        status = {"message": payload.strip()}
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause["message"])
    message = status.get("message") or payload.strip()
    if "not found" in message and "container" in message:
        hint = ("The container is not running (not yet, or not any more): wait for it first "
                "(wait_for_ready or wait_for_phase 'Running') and check the container name.")
    elif "executable file not found" in message or "no such file" in message:
        hint = ("That program is not in the image: the lab image is busybox, which has sh, cat, "
                "ls, wget… but not bash or curl.")
    else:
        hint = "Run it again; if it keeps failing, read the pod's events (lab.events(pod))."
    raise PodlabError(f"Could not run {list(argv)!r}: {message}", hint=hint)


def read_file(namespace: str, pod: str, path: str, *, container: str | None = None,
              api: client.ApiClient | None = None) -> str:
    """The contents of a file as the container sees it."""
    result = exec_in_pod(namespace, pod, ["cat", "--", path], container=container, api=api)
    if result.exit_code != 0:
        directory = posixpath.dirname(path.rstrip("/")) or "/"
        raise PodlabError(
            f"Cannot read {path} in pod {namespace}/{pod}: {result.stderr.strip() or 'cat failed'}",
            hint=f"See what is there with exec_in_pod(…, ['ls', '-la', {directory!r}]), "
                 f"and check the volume's mountPath in the pod spec.")
    return result.stdout


def logs(namespace: str, pod: str, *, container: str | None = None, previous: bool = False,
         tail_lines: int | None = None, api: client.ApiClient | None = None) -> str:
    """A container's log (previous=True: of the instance before its last restart)."""
    try:
        response = client.CoreV1Api(api or connect()).read_namespaced_pod_log(
            pod, namespace, container=container, previous=previous, tail_lines=tail_lines,
            _preload_content=False)
    except ApiException as e:
        raise api_error(e, f"reading the log of pod {namespace}/{pod}",
                        hint="A pod with several containers needs container=…; previous=True needs "
                             "a restart to have happened.") from e
    return response.data.decode("utf-8", "replace")
