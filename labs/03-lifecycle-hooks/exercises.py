"""Exercises of lab 03, "Container lifecycle hooks, hands-on" (labs/03-lifecycle-hooks.ipynb).

Exercises 1 to 4 give a manifest to edit: its starter and one solution are YAML files beside
this module (exN-*.starter.yaml, exN-*.solution.yaml). The check applies the reader's
manifest in the lab's namespace and looks at what really happens: what the app logged and
how its container ended, a journal the app wrote to a file on the node (read with
lab.read_node_file, then removed), the kubelet's events and the container's waiting message,
and a timeline of the pod's deletion (lab.timeline) with the marks its container left in
its termination message. Exercise 5 asks for predictions instead, and its check runs fixed
pods (predict-prestop.yaml) to compare them with what happens.
"""

from __future__ import annotations

import re
from pathlib import Path

from podlab import (NODE_SHARE_DIR, PodlabError, WaitTimeout, expect_equal, expect_line,
                    expect_true, finished, is_ready, ready, restart_count, satisfies, state_reason)
from podlab.timing import parse_marks
from podlab.exercises import (Predictions, apply_answer, command_line, container_status, require_container,
                              require_pod)
from podlab.timeouts import ANSWER_READY, EVENT_RECORDED

HERE = Path(__file__).resolve().parent

# How long a check follows a container's log for a line it expects: the lines come at once.
LOG_TIMEOUT = 20.0
# A pod that runs once (restartPolicy Never) and whose container ends by itself, by a failed
# hook or by a failed liveness probe (every second, one failure) ends within seconds.
SETTLE_TIMEOUT = 60.0


def _has_ended(pod) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


# -- Exercise 1: a file the app needs, prepared by postStart ----------------------------------------

CATALOG_CONF = "/config/catalog.conf"


def _prepares_the_file(spec: dict) -> bool:
    """Whether the two seconds of preparation are still there: in an init container or a postStart hook."""
    commands = [command_line(c) for c in spec.get("initContainers") or []]
    for container in spec.get("containers") or []:
        hook = ((container.get("lifecycle") or {}).get("postStart") or {}).get("exec") or {}
        commands.append(" ".join(str(part) for part in hook.get("command") or []))
    return any("sleep 2" in command and CATALOG_CONF in command for command in commands)


def verify_catalog(lab, answer: str) -> None:
    spec = require_pod(answer, "catalog")["spec"]
    require_container(spec, "catalog", "app")
    if spec.get("restartPolicy") != "Never":
        raise AssertionError("✗ keep `restartPolicy: Never`: the app must find its configuration on its "
                             "first run, not after a restart")
    if not _prepares_the_file(spec):
        raise AssertionError("✗ the preparation step is gone or changed: keep its command as it is "
                             f"(two seconds of work, then {CATALOG_CONF}); you may move it")
    apply_answer(lab, answer)
    pod = lab.wait("catalog", satisfies(lambda p: is_ready(p) or _has_ended(p), "ready, or finished"),
                   timeout=ANSWER_READY)
    if _has_ended(pod):
        log = lab.logs("catalog", container="app").strip()
        ended = (container_status(pod, "app").get("state") or {}).get("terminated") or {}
        if "is missing" in log:
            raise AssertionError(
                f"✗ container app exited with code {ended.get('exitCode')} as soon as it started; its log: "
                f"`{log}`. It looked for the file before the postStart hook had written it: the hook "
                "runs alongside the entrypoint, not before it, and this one needs two seconds")
        raise AssertionError(f"✗ pod catalog ended (phase {pod['status']['phase']}, exit code "
                             f"{ended.get('exitCode')}) instead of serving; the app's log: `{log}`")
    try:
        log = lab.wait_for_log("catalog", "serving with", container="app", timeout=LOG_TIMEOUT)
    except WaitTimeout:
        log = lab.logs("catalog", container="app")
    expect_line("log of container app", log, "catalog: serving with workers=4")
    expect_equal("restarts of container app", restart_count(pod, "app"), 0)


# -- Exercise 2: drain within the grace period, checked on the node -------------------------------

JOURNAL_DIR = "lifecycle-hooks"  # under NODE_SHARE_DIR; the pods' subPathExpr adds the namespace


def journal_path(lab, name: str = "worker.log") -> str:
    """Where on the node a pod of this lab writes its journal."""
    return f"{NODE_SHARE_DIR}/{JOURNAL_DIR}/{lab.namespace}/{name}"


def remove_node_files(lab) -> None:
    """Remove what this lab's pods wrote on the node (its namespace's directory), with a helper pod."""
    lab.apply(HERE / "node-share.yaml")
    lab.wait("node-share", ready, timeout=ANSWER_READY)
    # The parent directory goes too once no lab has a directory in it (rmdir refuses otherwise).
    lab.exec("node-share", f"rm -rf /share/{JOURNAL_DIR}/{lab.namespace} && "
                           f"{{ rmdir /share/{JOURNAL_DIR} 2>/dev/null; true; }}").check()


def verify_drain(lab, answer: str) -> None:
    spec = require_pod(answer, "worker")["spec"]
    worker = require_container(spec, "worker", "worker")
    remove_node_files(lab)  # a journal left by an earlier attempt
    try:
        apply_answer(lab, answer)
        lab.wait("worker", ready, timeout=ANSWER_READY)
        # Delete the pod just after a job has started: the job then has four seconds to go.
        lab.wait_for_log("worker", "job 1 started", container="worker", timeout=LOG_TIMEOUT)
        timeline = lab.timeline("worker")
        lab.delete("worker")
        timeline.stop()
        try:
            journal = lab.read_node_file(journal_path(lab))
        except PodlabError:
            raise AssertionError(f"✗ no journal on the node at {journal_path(lab)}: keep the worker's "
                                 "`journal` volume and its mount as they are") from None
    finally:
        remove_node_files(lab)

    lines = [line.strip() for line in journal.splitlines() if line.strip()]
    last = lines[-1] if lines else "(nothing)"
    if any(line.startswith("SIGTERM: job") for line in lines):
        hook = (worker.get("lifecycle") or {}).get("preStop")
        grace = spec.get("terminationGracePeriodSeconds", 30)
        if last.endswith("drain under way"):
            why = ("SIGTERM came while the drain was under way. The kubelet sends SIGTERM as soon as the "
                   f"preStop hook returns, and at the latest when the grace period ({grace} s) is up; the "
                   "drain needs the rest of a job, up to 4 s")
            if "FailedPreStopHook" in timeline.names():  # recorded asynchronously: mentioned when seen
                why += ". Here the grace period ran out first (event FailedPreStopHook)"
        elif not hook:
            why = "the container has no preStop hook, so SIGTERM came as soon as the pod was deleted"
        elif "sleep" in hook:
            why = ("a sleep action only waits: it does not ask the worker to drain, so the worker went "
                   "on taking jobs until SIGTERM came")
        else:
            why = "the preStop hook never asked the worker to drain (/tmp/drain did not exist)"
        raise AssertionError(f"✗ the worker lost the job it was doing (its journal on the node ends with "
                             f"`{last}`): {why}")
    if "drained" not in lines or not last.startswith("SIGTERM: exiting"):
        raise AssertionError(f"✗ the worker's journal on the node does not end with a drain and a clean "
                             f"exit; it ends with `{last}` (no SIGTERM line: the worker was killed)")
    started = [line.split()[1] for line in lines if line.startswith("job ") and line.endswith(" started")]
    expect_true("every job the worker started is done (journal on the node)",
                all(f"job {n} done" in lines for n in started))
    expect_line("journal of the worker, on the node", journal, "drained")
    expect_line("journal of the worker, on the node", journal, "SIGTERM: exiting, no job lost")


# -- Exercise 3: a failing postStart, diagnosed from events and the waiting message --------------

_EXEC_ERROR = re.compile(r'exec: "[^"]*": [^,\n]+')
_EXIT_ERROR = re.compile(r"exited with \d+: .*?(?=, message:|$)", re.S)
_HEX_ID = re.compile(r"\b[0-9a-f]{64}\b")


def hook_error(message: str) -> str:
    """The part of a PostStartHookError message that says why the hook failed."""
    for pattern in (_EXEC_ERROR, _EXIT_ERROR):
        found = pattern.search(message or "")
        if found:
            return found[0].strip()
    tail = (message or "").split("failed - error: ", 1)[-1]
    return _HEX_ID.sub("<id>", tail).strip()


def verify_inventory(lab, answer: str) -> None:
    spec = require_pod(answer, "inventory")["spec"]
    require_container(spec, "inventory", "app")
    apply_answer(lab, answer)
    pod = lab.wait("inventory", satisfies(
        lambda p: is_ready(p) or state_reason(p, "app") == "PostStartHookError" or _has_ended(p),
        "ready, or failing its postStart hook"), timeout=ANSWER_READY)
    if not is_ready(pod):
        event = lab.wait_for_event("inventory", "FailedPostStartHook", timeout=EVENT_RECORDED)
        waiting = (container_status(pod, "app").get("state") or {}).get("waiting") or {}
        raise AssertionError(
            "✗ the postStart hook of container app failed, so the kubelet stopped the container (and, "
            "under restartPolicy Always, starts it again, and the hook fails again); what "
            "`kubectl describe pod inventory` shows:\n"
            f"  event {event.type} {event.reason}: {event.message}\n"
            f"  container app waiting, reason {waiting.get('reason')}: … {hook_error(waiting.get('message', ''))}")
    expect_equal("restarts of container app", restart_count(pod, "app"), 0)
    registration = lab.read_file("inventory", "/tmp/registration", container="app")
    expect_true("the hook's script ran: /tmp/registration says `registered <pod name>`",
                registration.strip() == "registered inventory")


# -- Exercise 4: an httpGet preStop hook against the container's own server -----------------------

SERVER_PORT = 8080


def _hook_port(container: dict, port) -> int | None:
    """The port number an httpGet handler asks (a number, or the name of a declared container port)."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for declared in container.get("ports") or []:
        if declared.get("name") == port:
            return int(declared["containerPort"])
    return None


_LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1, as /proc/net/tcp* write them


def reachable_ports(lab, pod: str, container: str) -> set[int]:
    """The TCP ports something in the pod listens on at an address other than loopback (so, on
    the pod's IP): from the kernel's socket tables, /proc/net/tcp and tcp6."""
    tables = lab.exec(pod, "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null", container=container).stdout
    ports = set()
    for line in tables.splitlines():
        fields = line.split()
        # sl local_address rem_address st ...: the local address is HEXADDR:HEXPORT, state 0A is LISTEN
        if len(fields) > 3 and ":" in fields[1] and fields[3] == "0A":
            address, port = fields[1].rsplit(":", 1)
            if address.upper() not in _LOOPBACK:
                ports.add(int(port, 16))
    return ports


def verify_orders(lab, answer: str) -> None:
    spec = require_pod(answer, "orders")["spec"]
    api = require_container(spec, "orders", "api")
    request = (((api.get("lifecycle") or {}).get("preStop") or {}).get("httpGet"))
    if not request:
        raise AssertionError("✗ container api has no httpGet preStop hook: the task is to make the "
                             "kubelet's own request reach the server")
    port = _hook_port(api, request.get("port"))
    if port is None:
        raise AssertionError(f"✗ the hook asks port {request.get('port')!r}, which container api does not "
                             "declare by that name")
    apply_answer(lab, answer)
    lab.wait("orders", ready, timeout=ANSWER_READY)  # the readiness probe: the server listens
    # Does anything in the pod listen on the hook's port, on the pod's IP? (Read from the kernel's
    # socket tables: a test request could set off the drain itself.)
    reachable = port in reachable_ports(lab, "orders", "api")
    timeline = lab.timeline("orders")
    lab.delete("orders")
    timeline.stop()
    if "drain-requested" not in timeline.names():
        if not reachable:
            # The request was refused: the kubelet records the hook's failure (asynchronously).
            event = lab.wait_for_event("orders", "FailedPreStopHook", timeout=EVENT_RECORDED)
            raise AssertionError(f"✗ the preStop hook failed (event {event.reason}: {event.message}), and "
                                 f"the kubelet went on to SIGTERM: nothing in the pod listens on port {port}, "
                                 f"so the kubelet's request to the pod's IP was refused. The server listens on port {SERVER_PORT}")
        raise AssertionError(f"✗ the server never got GET /cgi-bin/drain, although it listens on port {port} "
                             f"(the hook asked the path {request.get('path', '/')!r}): an httpGet hook "
                             "succeeds on any HTTP answer, 404 for a wrong path included, so the kubelet "
                             "reports nothing")
    requests = [name for name in timeline.names() if name.partition("#")[0] == "drain-requested"]
    expect_equal("GET /cgi-bin/drain requests the server noted", len(requests), 1)
    expect_true("the drain request came before SIGTERM (whole seconds)", timeline.order("drain-requested", "sigterm"))


# -- Exercise 5: predict, then observe: when does preStop run? ------------------------------------

PREDICT_FILE = "predict-prestop.yaml"
_PREDICT_PODS = {
    "exits-itself": "the app exits 0 by itself after a second",
    "deleted": "the pod is deleted: kubectl delete pod",
    "liveness-fails": "its liveness probe fails",
    "poststart-fails": "its postStart hook fails",
}


def _marks_of(pod) -> list[str]:
    ended = (container_status(pod, "app").get("state") or {}).get("terminated") or {}
    return [m.label for m in parse_marks(ended.get("message") or "", strict=False)]


def _observe_prestop(lab) -> dict[str, bool]:
    """Whether each predict pod's preStop hook ran: from its marks, once its container has ended."""
    lab.delete(HERE / PREDICT_FILE, grace_period=1)  # a clean start: no pod of an earlier attempt
    lab.apply(HERE / PREDICT_FILE)
    lab.wait("deleted", ready, timeout=ANSWER_READY)
    timeline = lab.timeline("deleted")  # the pod is gone after the deletion: its last status is recorded
    lab.delete("deleted")
    timeline.stop()
    observed = {"deleted": "preStop" in timeline.names()}
    for name in ("exits-itself", "liveness-fails", "poststart-fails"):
        observed[name] = "preStop" in _marks_of(lab.wait(name, finished, timeout=SETTLE_TIMEOUT))
    return observed


verify_predict_prestop = Predictions(
    _PREDICT_PODS, "write True (the preStop hook runs) or False for each pod", _observe_prestop,
    answered=lambda value: isinstance(value, bool), show=str)
