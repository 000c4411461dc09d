"""Looking inside a running pod: run a command (once, or until it succeeds), read a file, the environment, logs."""

from __future__ import annotations

import json
import posixpath
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, STDERR_CHANNEL, STDOUT_CHANNEL
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from ._api import api_error
from .connect import connect
from .errors import PodlabError, WaitTimeout
from .hints import hint_for
from .livestatus import LiveStatus
from .timeouts import API_CONNECT, EXEC, EXEC_UNTIL, POD_START

FIRST_PAUSE = 0.1    # exec_until: seconds between the first attempts, growing by BACKOFF ...
BACKOFF = 1.5
MAX_PAUSE = 1.0      # ... up to this

Command = str | Sequence[str]


@dataclass(frozen=True)
class ExecResult:
    """What a command run in a container printed, and how it exited."""

    stdout: str
    stderr: str
    exit_code: int
    command: str = field(default="", compare=False, repr=False)  # as given, for messages
    where: str = field(default="", compare=False, repr=False)    # pod (and container) it ran in

    def check(self) -> ExecResult:
        """Return self when the command exited 0; otherwise raise PodlabError with command, exit code and stderr."""
        if self.exit_code == 0:
            return self
        stderr = self.stderr.strip() or "(nothing on stderr)"
        hint = ("That command is not in the image: the lab image is busybox (sh, cat, ls, wget… "
                "but not bash or curl)." if self.exit_code == 127 else
                "Its stderr above says why; lab.exec(...) without .check() shows stdout too.")
        raise PodlabError(f"`{self.command or '?'}` in {self.where or 'the container'} exited with code "
                          f"{self.exit_code}: {stderr}", hint=hint)


def _argv(command: Command) -> list[str]:
    return ["sh", "-c", command] if isinstance(command, str) else list(command)


def _where(namespace: str, pod: str, container: str | None) -> str:
    return f"pod {namespace}/{pod}" + (f" (container {container})" if container else "")


def exec_in_pod(namespace: str, pod: str, command: Command, *, container: str | None = None,
                timeout: float = EXEC, api: client.ApiClient | None = None) -> ExecResult:
    """Run command in a container (a string runs under `sh -c`) and collect its output and exit code."""
    argv = _argv(command)
    where = _where(namespace, pod, container)
    # stream() temporarily swaps call_api on the client it is given, so a client shared
    # with other threads (a watch, a concurrent wait) would be hijacked: use a private one.
    with client.ApiClient((api or connect()).configuration) as private:
        try:
            session = stream(client.CoreV1Api(private).connect_get_namespaced_pod_exec, pod, namespace,
                             command=argv, container=container, stdin=False, stdout=True,
                             stderr=True, tty=False, _preload_content=False)
        except ApiException as e:
            raise api_error(e, f"running {argv!r} in {where}",
                            fallback_hint="Is the pod running? Wait for it first (lab.wait(name, podlab.ready)), "
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
    shown = command if isinstance(command, str) else shlex.join(argv)
    return ExecResult(stdout=stdout, stderr=stderr, exit_code=exit_code_from_status(status, argv),
                      command=shown, where=where)


def attach(namespace: str, pod: str, send: str, *, until: str, container: str | None = None,
           tty: bool = True, timeout: float = EXEC, api: client.ApiClient | None = None) -> str:
    """Attach to a running container's stdin and stdout, write send, and return what the container
    wrote until `until` appeared in it (`kubectl attach -i`, with `-t` when tty=True).

    The container must have asked for it (`stdin: true`, and `tty: true` for tty=True). Only
    output written after attaching is seen; detaching leaves the container running unless it
    set `stdinOnce: true`. With a terminal, the container's stdout and stderr are one stream
    and the terminal echoes what was typed, with CRLF line ends, as on a screen.
    """
    where = _where(namespace, pod, container)
    with client.ApiClient((api or connect()).configuration) as private:  # see exec_in_pod
        try:
            session = stream(client.CoreV1Api(private).connect_get_namespaced_pod_attach, pod, namespace,
                             container=container, stdin=True, stdout=True, stderr=not tty, tty=tty,
                             _preload_content=False)
        except ApiException as e:
            raise api_error(e, f"attaching to {where}",
                            fallback_hint="The container needs `stdin: true` (and `tty: true` for a "
                                          "terminal) in the pod spec, and must be running.") from e
        output = ""
        try:
            session.write_stdin(send)
            deadline = time.monotonic() + timeout
            while until not in output:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not session.is_open():
                    shown = output.strip() or "(nothing)"
                    raise PodlabError(f"Attached to {where}, sent {send!r}, but {until!r} did not appear "
                                      f"within {timeout:.0f}s. The container wrote:\n{shown}",
                                      hint="Is the container reading stdin (stdin: true)? A shell "
                                           "without a terminal prints no prompt.")
                session.update(timeout=min(remaining, 1.0))
                output += session.read_channel(STDOUT_CHANNEL, timeout=0) + (
                    "" if tty else session.read_channel(STDERR_CHANNEL, timeout=0))
        finally:
            session.close()
    return output


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
    hint = (hint_for(status.get("code"), status.get("reason"), message)
            or "Run it again; if it keeps failing, read the pod's events (lab.events(pod)).")
    raise PodlabError(f"Could not run {list(argv)!r}: {message}", hint=hint)


def exec_until(namespace: str, pod: str, test: Command, *, container: str | None = None,
               timeout: float = EXEC_UNTIL, api: client.ApiClient | None = None) -> float:
    """Run test in the container until it exits 0, backing off between tries; return the seconds waited.

    Replaces `until …; do sleep …; done` loops inside the container: the attempts are bounded
    by the deadline, and a timeout shows what the last attempt printed.
    """
    started = time.monotonic()
    deadline, pause, attempts = started + timeout, FIRST_PAUSE, 0
    shown = test if isinstance(test, str) else shlex.join(test)
    with LiveStatus(f"waiting for `{shown}` to succeed in pod/{pod}") as status:
        while True:
            last = exec_in_pod(namespace, pod, test, container=container, api=api,
                               timeout=max(1.0, min(EXEC, deadline - time.monotonic())))
            attempts += 1
            if last.exit_code == 0:
                return time.monotonic() - started
            status.show(f"attempt {attempts}: exit code {last.exit_code}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(pause, remaining))
            pause = min(pause * BACKOFF, MAX_PAUSE)
    output = "\n".join(f"  {name} | {line}" for name, text in (("stdout", last.stdout), ("stderr", last.stderr))
                       for line in text.rstrip("\n").splitlines()) or "  (no output)"
    raise WaitTimeout(f"Timed out after {timeout:.0f}s waiting for `{shown}` to succeed in "
                      f"{_where(namespace, pod, container)}: {attempts} attempts, the last exited with code "
                      f"{last.exit_code}.\n\n{output}",
                      hint="Run the test once with lab.exec(...) to see why it fails; if the state is just "
                           "slow to come, pass a larger timeout=.")


class Process(NamedTuple):
    """One process as `ps -o pid,user,args` shows it inside a container."""

    pid: int
    user: str
    args: str


def processes(namespace: str, pod: str, *, container: str | None = None,
              api: client.ApiClient | None = None) -> list[Process]:
    """The processes a container can see (its PID namespace), without the `ps` that listed them."""
    argv = ["ps", "-o", "pid,user,args"]
    listing = exec_in_pod(namespace, pod, argv, container=container, api=api).check().stdout
    rows = [line.split(None, 2) for line in listing.splitlines()[1:] if line.strip()]
    return [Process(int(pid), user, args) for pid, user, args, *_ in (row + [""] for row in rows)
            if args != " ".join(argv)]


def env(namespace: str, pod: str, *, container: str | None = None,
        api: client.ApiClient | None = None) -> dict[str, str]:
    """The environment a new process in the container starts with (what `kubectl exec … env` shows)."""
    # /proc/self/environ separates entries with NUL, so values may hold newlines or '='.
    text = exec_in_pod(namespace, pod, ["cat", "/proc/self/environ"], container=container, api=api).check().stdout
    return dict(entry.split("=", 1) for entry in text.split("\0") if "=" in entry)


def read_file(namespace: str, pod: str, path: str, *, container: str | None = None,
              api: client.ApiClient | None = None) -> str:
    """The contents of a file as the container sees it."""
    result = exec_in_pod(namespace, pod, ["cat", "--", path], container=container, api=api)
    if result.exit_code != 0:
        directory = posixpath.dirname(path.rstrip("/")) or "/"
        raise PodlabError(
            f"Cannot read {path} in pod {namespace}/{pod}: {result.stderr.strip() or 'cat failed'}",
            hint=f"See what is there with lab.exec(pod, ['ls', '-la', {directory!r}]), "
                 f"and check the volume's mountPath in the pod spec.")
    return result.stdout


def wait_for_log(namespace: str, pod: str, text: str, *, container: str | None = None,
                 timeout: float = POD_START, api: client.ApiClient | None = None) -> str:
    """Follow a container's log (`kubectl logs -f`) until text appears in it; return the log so far."""
    where = _where(namespace, pod, container)
    deadline = time.monotonic() + timeout
    seen = ""
    try:
        response = client.CoreV1Api(api or connect()).read_namespaced_pod_log(
            pod, namespace, container=container, follow=True, _preload_content=False,
            _request_timeout=(API_CONNECT, timeout))
    except ApiException as e:
        raise api_error(e, f"following the log of {where}",
                        fallback_hint="Wait until the container has started (lab.wait(name, podlab.ready)); "
                                      "a pod with several containers needs container=….") from e
    try:
        for chunk in response.stream(4096):
            seen += chunk.decode("utf-8", "replace")
            if text in seen:
                return seen
            if time.monotonic() > deadline:
                break
    except (ReadTimeoutError, ProtocolError):
        pass  # the log stayed silent until the deadline, or the container ended
    finally:
        response.release_conn()
    tail = "\n".join(f"  | {line}" for line in seen.rstrip("\n").splitlines()[-10:]) or "  (empty)"
    raise WaitTimeout(f"{text!r} did not appear in the log of {where} within {timeout:.0f}s "
                      f"(or the container ended first). The log's last lines:\n{tail}",
                      hint="Check the container is writing to stdout, and its state with lab.pod(name).")


def logs(namespace: str, pod: str, *, container: str | None = None, previous: bool = False,
         tail_lines: int | None = None, api: client.ApiClient | None = None) -> str:
    """A container's log (previous=True: of the instance before its last restart)."""
    try:
        response = client.CoreV1Api(api or connect()).read_namespaced_pod_log(
            pod, namespace, container=container, previous=previous, tail_lines=tail_lines,
            _preload_content=False)
    except ApiException as e:
        raise api_error(e, f"reading the log of pod {namespace}/{pod}",
                        fallback_hint="A pod with several containers needs container=…; previous=True "
                                      "needs a restart to have happened.") from e
    return response.data.decode("utf-8", "replace")
