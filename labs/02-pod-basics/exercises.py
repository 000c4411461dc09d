"""Exercises of lab 02, "The pod, hands-on" (labs/02-pod-basics.ipynb).

Most exercises give a pod manifest to edit: its starter and one solution are YAML files
beside this module (exN-*.starter.yaml, exN-*.solution.yaml). The check applies the
reader's manifest in the lab's namespace and asserts what really happens: what a
sidecar prints, which processes one container can see and signal, what /etc/hosts
holds, and how the kubelet treats a container that has exited. Exercise 4 asks for
predictions instead, and its check runs fixed pods (predict-pods.yaml and
predict-absent-image.yaml) to compare them with what happens.
"""

from __future__ import annotations

from pathlib import Path

from podlab import (WaitTimeout, expect_equal, expect_line, expect_true, finished, ready, restart_count,
                    satisfies, state_reason)
from podlab.exercises import Predictions, apply_answer, container_status, require_pod
from podlab.timeouts import ANSWER_READY

HERE = Path(__file__).resolve().parent

# How long a check follows a container's log for a line it expects. The app of exercise 1
# writes a line a second and busybox's `tail -F` looks at the file once a second, so the
# first three lines take about four seconds; the rest is slack for a loaded machine.
LOG_TIMEOUT = 20.0
# ... and when the file the sidecar reads does not even exist in its container, a short
# look is enough to confirm that nothing arrives.
LOG_TIMEOUT_NO_FILE = 5.0
# The app of exercise 2 answers SIGHUP at once; this bounds the wait for its log line.
SIGNAL_TIMEOUT = 10.0
# A one-shot container that exits is restarted within a second or two when its pod's
# restartPolicy says so (the first restart has no back-off), and a pod that may not
# restart it reaches its final phase as quickly. This bounds the wait for either.
SETTLE_TIMEOUT = 60.0
# The kubelet's first crash-loop back-off is 10 s (initialCrashLoopBackOff in
# pkg/kubelet/kubelet.go, v1.37.2) and the next one 20 s: 60 s covers both.
BACKOFF_TIMEOUT = 60.0


def _container(spec: dict, name: str) -> tuple[str, dict] | None:
    """('initContainers' or 'containers', the container) for the container `name` of a pod spec."""
    for section in ("initContainers", "containers"):
        for container in spec.get(section) or []:
            if container.get("name") == name:
                return section, container
    return None


def _log_once_it_has(lab, pod: str, container: str, last_line: str, timeout: float) -> str:
    """The container's log once `last_line` has appeared in it, or as it is when the time is up."""
    try:
        lab.wait_for_log(pod, last_line, container=container, timeout=timeout)
    except WaitTimeout:
        pass  # the caller says what is missing
    return lab.logs(pod, container=container)


# -- Exercise 1: a log-shipping sidecar --------------------------------------------------------

APP_LOG = "/var/log/shop/app.log"
SHOP_LINES = ["order 1 accepted", "order 2 accepted", "order 3 accepted"]


def verify_log_sidecar(lab, answer: str) -> None:
    pod_spec = require_pod(answer, "shop")["spec"]
    found = _container(pod_spec, "log-shipper")
    if found is None:
        raise AssertionError("✗ pod shop has no container named log-shipper: keep the starter's shipper")
    section, shipper = found
    if section == "initContainers" and shipper.get("restartPolicy") != "Always":
        # An ordinary init container must finish before the app starts; `tail -F` never does.
        raise AssertionError("✗ log-shipper is an ordinary init container: the app would not start "
                             "until it exits, and `tail -F` never exits (a sidecar needs "
                             "restartPolicy: Always)")
    apply_answer(lab, answer)
    lab.wait("shop", ready, timeout=ANSWER_READY)

    # Does the shipper see the file at all? Then give it time to copy three lines.
    visible = lab.exec("shop", ["test", "-e", APP_LOG], container="log-shipper").exit_code == 0
    log = _log_once_it_has(lab, "shop", "log-shipper", SHOP_LINES[-1],
                           LOG_TIMEOUT if visible else LOG_TIMEOUT_NO_FILE)
    if not any(line.strip() in SHOP_LINES for line in log.splitlines()):
        why = ("" if visible else
               f"; {APP_LOG}, which the app writes into volume `logs`, does not exist in container "
               "log-shipper")
        raise AssertionError(f"✗ the log of container log-shipper has none of the app's lines{why}")
    for line in SHOP_LINES:
        expect_line("log of container log-shipper", log, line)

    if section != "initContainers":
        raise AssertionError("✗ log-shipper is a regular container: it works, but it is started "
                             "alongside the app rather than before it, and it would keep a finished "
                             "pod running. Make it a native sidecar (an init container with "
                             "restartPolicy: Always)")
    expect_equal("restartPolicy of init container log-shipper", shipper.get("restartPolicy"), "Always")
    state = container_status(lab.pod("shop"), "log-shipper")
    expect_true("init container log-shipper is running (started before the app, still running beside it)",
                "running" in (state.get("state") or {}) and state.get("started") is True)


# -- Exercise 2: signal the app from another container -----------------------------------------

APP_MARKER = "configuration reloaded"  # a word of the app's command line, and of its answer to SIGHUP


def verify_reload(lab, answer: str) -> None:
    pod_spec = require_pod(answer, "reloader")["spec"]
    for name in ("app", "tool"):
        if _container(pod_spec, name) is None:
            raise AssertionError(f"✗ pod reloader has no container {name!r}: keep the starter's containers")
    if pod_spec.get("hostPID"):
        # Then `ps` would list every process of the node, other pods' included: never signal those.
        raise AssertionError("✗ hostPID: true puts the pod into the node's process namespace, where "
                             "its containers see (and could signal) every process on the node. "
                             "Share the processes of this pod only")
    apply_answer(lab, answer)
    lab.wait("reloader", ready, timeout=ANSWER_READY)

    seen = lab.processes("reloader", container="tool")
    candidates = [p.pid for p in seen if APP_MARKER in p.args]
    if not candidates:
        first = next((p.args for p in seen if p.pid == 1), "?")
        raise AssertionError("✗ the app's process is not visible from container tool: `ps` there "
                             f"lists only the tool's own processes (its PID 1 is `{first}`)")
    if len(candidates) > 1 or candidates[0] == 1:
        raise AssertionError(f"✗ expected one process of the app, other than PID 1, in `ps` of container "
                             f"tool; found PIDs {candidates}")
    pid = candidates[0]
    expect_true("container tool sees the app's process in `ps`", len(candidates) == 1)
    lab.exec("reloader", ["kill", "-HUP", str(pid)], container="tool").check()
    log = _log_once_it_has(lab, "reloader", "app", f"SIGHUP: {APP_MARKER}", SIGNAL_TIMEOUT)
    expect_line("log of container app, after `kill -HUP <app's PID>` in container tool", log,
                f"SIGHUP: {APP_MARKER}")


# -- Exercise 3: names in /etc/hosts with hostAliases ------------------------------------------

HOST_ALIASES_MARKER = "# Entries added by HostAliases."
WANTED_HOSTS = {"db.internal": "192.0.2.10", "cache.internal": "192.0.2.11"}


def host_aliases_section(hosts: str) -> dict[str, str]:
    """name -> address for the entries below the kubelet's HostAliases marker in /etc/hosts."""
    lines = hosts.splitlines()
    if HOST_ALIASES_MARKER not in (line.strip() for line in lines):
        return {}
    start = [line.strip() for line in lines].index(HOST_ALIASES_MARKER) + 1
    names: dict[str, str] = {}
    for line in lines[start:]:
        fields = line.split("#", 1)[0].split()
        for name in fields[1:]:
            names.setdefault(name, fields[0])
    return names


def verify_hosts(lab, answer: str) -> None:
    require_pod(answer, "orders")
    apply_answer(lab, answer)
    lab.wait("orders", ready, timeout=ANSWER_READY)
    hosts = lab.read_file("orders", "/etc/hosts")
    if HOST_ALIASES_MARKER not in hosts:
        raise AssertionError(f"✗ /etc/hosts of pod orders has no line {HOST_ALIASES_MARKER!r}: "
                             "the pod has no hostAliases")
    section = host_aliases_section(hosts)
    for name, address in WANTED_HOSTS.items():
        expect_equal(f"address of {name} in /etc/hosts (the HostAliases entries)", section.get(name), address)


# -- Exercise 4: predict, then observe: phases and container states -----------------------------

# The pods the check runs, what each is, and when its state is read.
_PODS = {
    "crash-never": "exit 1, restartPolicy Never",
    "crash-always": "exit 1, restartPolicy Always",
    "done-onfailure": "exit 0, restartPolicy OnFailure",
    "absent-image": "image not on the node, imagePullPolicy Never",
}
_PREDICT_FILES = ("predict-pods.yaml", "predict-absent-image.yaml")


def _backing_off(pod) -> bool:
    return state_reason(pod, "task") == "CrashLoopBackOff"


def _waits_for_image(pod) -> bool:
    return state_reason(pod, "task") not in (None, "ContainerCreating")


def _observe(lab, name: str) -> tuple[str, str | None]:
    """(phase, reason of the container's state) of a predict pod, once it has settled."""
    if name == "crash-always":
        # The kubelet sets the waiting reason CrashLoopBackOff when it syncs the pod while the
        # back-off runs. In v1.37 it requeues such a pod for the moment the back-off ends, so
        # between two runs the container mostly shows its last termination (Error), and the
        # waiting state is written just before the next start. A watch sees every update.
        condition = satisfies(_backing_off, "container task waiting in CrashLoopBackOff")
        timeout = BACKOFF_TIMEOUT
    elif name == "absent-image":
        condition = satisfies(_waits_for_image, "container task waiting for its image")
        timeout = SETTLE_TIMEOUT
    else:
        condition, timeout = finished, SETTLE_TIMEOUT
    try:
        pod = lab.wait(name, condition, timeout=timeout)
    except WaitTimeout:
        pod = lab.pod(name)
    return pod["status"]["phase"], state_reason(pod, "task")


def _normal(value) -> str:
    return str(value).strip().lower()


def _observe_all(lab) -> dict:
    for name in _PREDICT_FILES:  # a clean start: no pod of an earlier attempt
        lab.delete(HERE / name, grace_period=1)
    for name in _PREDICT_FILES:
        lab.apply(HERE / name)
    return {name: _observe(lab, name) for name in _PODS}


def _is_pair(pair) -> bool:
    return (isinstance(pair, (tuple, list)) and len(pair) == 2
            and not any(part in (None, "", "?") for part in pair))


verify_predictions = Predictions(
    _PODS, "write a pair (phase, reason) for each pod", _observe_all, answered=_is_pair,
    same=lambda name, predicted, observed: [_normal(p) for p in predicted] == [_normal(o) for o in observed])


# -- Exercises 5 and 6: one-shot tasks and restartPolicy ----------------------------------------

def _settled_or_restarted(lab, name: str):
    """The pod once it has finished or restarted a container (whichever comes first), bounded."""
    condition = satisfies(lambda pod: (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
                          or restart_count(pod) >= 1, "finished, or restarted its container")
    return lab.wait(name, condition, timeout=SETTLE_TIMEOUT)


def _last_termination(pod, container: str = "task") -> dict:
    status = container_status(pod, container)
    return ((status.get("state") or {}).get("terminated")
            or (status.get("lastState") or {}).get("terminated") or {})


def _ran_once(lab, answer: str, name: str, *, again: str, phase: str, exit_code: int, reason: str) -> None:
    """Apply a one-shot pod and check that its task ran once and ended as wanted.

    again: what the failure says after `✗ pod <name> ran` when the task ran again; {phase},
    {code} and {policy} are the pod's phase, the task's exit code and the pod's restartPolicy.
    """
    require_pod(answer, name)
    apply_answer(lab, answer)
    pod = _settled_or_restarted(lab, name)
    ended = _last_termination(pod)
    if restart_count(pod):
        raise AssertionError(f"✗ pod {name} ran " + again.format(
            phase=pod["status"]["phase"], code=ended.get("exitCode"),
            policy=(pod.get("spec") or {}).get("restartPolicy")))
    expect_equal(f"phase of pod {name}", pod["status"]["phase"], phase)
    expect_equal("container task ended with exit code", ended.get("exitCode"), exit_code)
    expect_equal("reason of its terminated state", ended.get("reason"), reason)


def verify_report(lab, answer: str) -> None:
    _ran_once(lab, answer, "report", phase="Succeeded", exit_code=0, reason="Completed",
              again="its task again after it had exited with code 0, so the pod stays in phase {phase}: "
                    "restartPolicy {policy} restarts a container however it exits")
    expect_line("log of pod report", lab.logs("report"), "report written")


def verify_migrate(lab, answer: str) -> None:
    _ran_once(lab, answer, "migrate", phase="Failed", exit_code=3, reason="Error",
              again="the migration again after it had failed with exit code {code}: restartPolicy {policy} "
                    "restarts a container that exits with a non-zero code")
    runs = lab.logs("migrate").splitlines().count("applying migration 42")
    expect_equal("times the log says `applying migration 42`", runs, 1)
