"""Exercises of lab 02, "The pod, hands-on" (labs/02-pod-basics.ipynb).

Most exercises give a pod manifest to edit: its starter and one solution are YAML files
beside this module (exN-*.starter.yaml, exN-*.solution.yaml). The check applies the
reader's manifest in the lab's namespace and asserts what really happens: what a
sidecar prints, which processes one container can see and signal, what /etc/hosts
holds, and how the kubelet treats a container that has exited. Exercise 4 asks for
predictions instead, and its check runs fixed pods (predict-pods.yaml and
predict-absent-image.yaml) to compare them with what happens.

Each exercise names the failure its starter is meant to produce (starter_fails_with);
tests/live/test_exercises.py proves on a live cluster that the starter fails with it and
that the solution passes.
"""

from __future__ import annotations

from pathlib import Path

from podlab import (Exercise, WaitTimeout, expect_equal, expect_line, expect_true,
                    finished, ready, restart_count, satisfies, state_reason)
from podlab.exercises import apply_answer, compare_predictions, require_pod, require_predictions

HERE = Path(__file__).resolve().parent

READY_TIMEOUT = 60.0
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


def _statuses(pod) -> list[dict]:
    """The container statuses of a pod (init containers first), as served."""
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]


def _status_of(pod, container: str) -> dict:
    return next((cs for cs in _statuses(pod) if cs.get("name") == container), {})


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


def _verify_log_sidecar(lab, answer: str) -> None:
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
    lab.wait("shop", ready, timeout=READY_TIMEOUT)

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
    state = _status_of(lab.pod("shop"), "log-shipper")
    expect_true("init container log-shipper is running (started before the app, still running beside it)",
                "running" in (state.get("state") or {}) and state.get("started") is True)


LOG_SIDECAR = Exercise(
    id="02-log-sidecar",
    title="A sidecar that ships the app's log",
    task="""\
The app in pod `shop` writes its log to the file /var/log/shop/app.log, on an emptyDir
volume named `logs`, and prints nothing. The cluster collects what containers print,
so a second container, `log-shipper`, is meant to copy each line of that file to its
own stdout (`tail -F`). As written, the shipper prints none of the app's lines.

Fix the pod so that `kubectl logs shop -c log-shipper` shows the app's lines, and make
log-shipper a native sidecar: a container the kubelet starts before the app and stops
after it. Leave the app's container as it is.""",
    starter=HERE / "ex1-log-sidecar.starter.yaml",
    solution=HERE / "ex1-log-sidecar.solution.yaml",
    hints=[
        "Each container has its own filesystem. A volume is shared only by the containers "
        "that mount it (`volumeMounts`), at whatever path each chooses.",
        "Add to log-shipper a volumeMount of `logs` at /var/log/shop (readOnly: true is "
        "enough for a reader).",
        "A native sidecar is declared under `initContainers` with `restartPolicy: Always`: "
        "move the whole log-shipper entry there and add that line.",
    ],
    starter_fails_with="the log of container log-shipper has none of the app's lines",
    verify=_verify_log_sidecar,
)


# -- Exercise 2: signal the app from another container -----------------------------------------

APP_MARKER = "configuration reloaded"  # a word of the app's command line, and of its answer to SIGHUP


def _verify_reload(lab, answer: str) -> None:
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
    lab.wait("reloader", ready, timeout=READY_TIMEOUT)

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


SIGNAL_THE_APP = Exercise(
    id="02-shared-process-namespace",
    title="Reload the app from a tool container",
    task="""\
Pod `reloader` runs an app that reads its configuration again when it receives SIGHUP
(it then logs `SIGHUP: configuration reloaded`), and a second container, `tool`, for
debugging. An operator wants to run, in container tool,

  ps                      # find the app's process
  kill -HUP <its PID>     # make it reload

but `ps` in the tool container does not list the app at all. Change the pod so that the
tool can see the app's process and signal it. Keep both containers and their commands
as they are; the check runs ps and kill in the tool container for you.""",
    starter=HERE / "ex2-reload.starter.yaml",
    solution=HERE / "ex2-reload.solution.yaml",
    hints=[
        "Each container normally gets a PID namespace of its own: its first process is "
        "PID 1 there, and processes of other containers do not exist for it.",
        "The containers of a pod share the network namespace by default; sharing the PID "
        "namespace is a choice, made once for the whole pod (a field of the pod spec).",
        "Add `shareProcessNamespace: true` under `spec:` (not hostPID, which would share "
        "the node's processes).",
    ],
    starter_fails_with="the app's process is not visible from container tool",
    verify=_verify_reload,
)


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


def _verify_hosts(lab, answer: str) -> None:
    require_pod(answer, "orders")
    apply_answer(lab, answer)
    lab.wait("orders", ready, timeout=READY_TIMEOUT)
    hosts = lab.read_file("orders", "/etc/hosts")
    if HOST_ALIASES_MARKER not in hosts:
        raise AssertionError(f"✗ /etc/hosts of pod orders has no line {HOST_ALIASES_MARKER!r}: "
                             "the pod has no hostAliases")
    section = host_aliases_section(hosts)
    for name, address in WANTED_HOSTS.items():
        expect_equal(f"address of {name} in /etc/hosts (the HostAliases entries)", section.get(name), address)


HOST_ALIASES = Exercise(
    id="02-host-aliases",
    title="Two names the app must resolve",
    task="""\
The app in pod `orders` connects to `db.internal` and `cache.internal`, names that no
DNS server knows. Until they are in DNS, the team wants them in the pod's /etc/hosts:

  db.internal     192.0.2.10
  cache.internal  192.0.2.11

(Documentation addresses: nothing answers there, and the check connects to nothing;
it reads /etc/hosts in the container.) The starter has a go at it, but the API server
refuses it. Fix the manifest.""",
    starter=HERE / "ex3-host-aliases.starter.yaml",
    solution=HERE / "ex3-host-aliases.solution.yaml",
    hints=[
        "Run the check and read the server's message: it names the field it does not know, "
        "and where.",
        "All containers of a pod share one network namespace, and the kubelet writes one "
        "/etc/hosts for the whole pod: entries for it belong to the pod, not to a container.",
        "Move the cache's entry into the pod-level `hostAliases` list, as a second item "
        "(`- ip: \"192.0.2.11\"` with `hostnames: [cache.internal]`).",
    ],
    starter_fails_with='hostAliases: field not declared in schema',
    verify=_verify_hosts,
)


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
    return pod.status.phase, state_reason(pod, "task")


def _normal(value) -> str:
    return str(value).strip().lower()


def _verify_predictions(lab, predictions) -> None:
    require_predictions(predictions, _PODS, how="write a pair (phase, reason) for each pod",
                        answered=lambda pair: isinstance(pair, (tuple, list)) and len(pair) == 2
                        and not any(part in (None, "", "?") for part in pair))

    for name in _PREDICT_FILES:  # a clean start: no pod of an earlier attempt
        lab.delete(HERE / name, grace_period=1)
    for name in _PREDICT_FILES:
        lab.apply(HERE / name)
    observed = {name: _observe(lab, name) for name in _PODS}

    compare_predictions([(f"{name} ({what})", tuple(predictions[name]), observed[name],
                          [_normal(p) for p in predictions[name]] == [_normal(o) for o in observed[name]])
                         for name, what in _PODS.items()])


PREDICT_PHASES = Exercise(
    id="02-predict-phases",
    title="Predict, then observe: phases and container states",
    task="""\
Four pods, each with one container named `task` (02-pod-basics/predict-pods.yaml and
02-pod-basics/predict-absent-image.yaml):

  crash-never     prints a line and exits with code 1; restartPolicy: Never
  crash-always    the same task;                       restartPolicy: Always
  done-onfailure  prints a line and exits with code 0; restartPolicy: OnFailure
  absent-image    an image the node does not have, with imagePullPolicy: Never

For each pod, predict the pair (phase, reason) once it has settled: the pod's
status.phase, and the reason in its container's state (`state.waiting.reason` or
`state.terminated.reason`, what the STATUS column of `kubectl get pods` shows). For
crash-always, "settled" means: after a restart, while the kubelet holds the next one back.

The starter holds one prediction already: what the study notes' list of phases
suggests for crash-always ("a container exited with a non-zero code: Failed"). Keep it
or change it, and fill in the others.""",
    starter={
        "crash-never": None,
        "crash-always": ("Failed", "Error"),
        "done-onfailure": None,
        "absent-image": None,
    },
    solution={
        "crash-never": ("Failed", "Error"),
        "crash-always": ("Running", "CrashLoopBackOff"),
        "done-onfailure": ("Succeeded", "Completed"),
        "absent-image": ("Pending", "ErrImageNeverPull"),
    },
    hints=[
        "The phase is about the pod as a whole: can any of its containers still run? The "
        "restartPolicy decides whether an exited container will.",
        "A pod whose container the kubelet will restart is not finished, however often the "
        "container fails. The reason for a container that exited 0 is `Completed`, for a "
        "non-zero exit `Error`.",
        "A pod stays Pending until all its containers have been created, and a container "
        "cannot be created without its image.",
    ],
    starter_fails_with="no prediction yet",
    verify=_verify_predictions,
)


# -- Exercises 5 and 6: one-shot tasks and restartPolicy ----------------------------------------

def _settled_or_restarted(lab, name: str):
    """The pod once it has finished or restarted a container (whichever comes first), bounded."""
    condition = satisfies(lambda pod: (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
                          or restart_count(pod) >= 1, "finished, or restarted its container")
    return lab.wait(name, condition, timeout=SETTLE_TIMEOUT)


def _last_termination(pod, container: str = "task") -> dict:
    status = _status_of(pod, container)
    return ((status.get("state") or {}).get("terminated")
            or (status.get("lastState") or {}).get("terminated") or {})


def _verify_report(lab, answer: str) -> None:
    require_pod(answer, "report")
    apply_answer(lab, answer)
    pod = _settled_or_restarted(lab, "report")
    if restart_count(pod):
        policy = (pod.get("spec") or {}).get("restartPolicy")
        raise AssertionError(f"✗ pod report ran its task again after it had exited with code 0, so "
                             f"the pod stays in phase {pod.status.phase}: restartPolicy {policy} "
                             "restarts a container however it exits")
    expect_equal("phase of pod report", pod.status.phase, "Succeeded")
    ended = _last_termination(pod)
    expect_equal("container task ended with exit code", ended.get("exitCode"), 0)
    expect_equal("reason of its terminated state", ended.get("reason"), "Completed")
    expect_line("log of pod report", lab.logs("report"), "report written")


ONE_SHOT_SUCCEEDS = Exercise(
    id="02-one-shot-succeeds",
    title="A task that runs once and is done",
    task="""\
Pod `report` runs a one-shot task: it builds a report, prints `report written` and
exits with code 0. The team's tooling waits for the pod to reach phase `Succeeded`,
but it never does. Fix the pod so that the task runs once and the pod ends in phase
Succeeded. Keep the container's command.""",
    starter=HERE / "ex5-report.starter.yaml",
    solution=HERE / "ex5-report.solution.yaml",
    hints=[
        "Run the check and look at the restart count: the task did not fail, yet it ran again.",
        "What the kubelet does when a container exits is set by the pod's `restartPolicy`: "
        "Always (the default), OnFailure or Never.",
        "Add `restartPolicy: Never` (or OnFailure) under `spec:`.",
    ],
    starter_fails_with="restartPolicy Always restarts a container however it exits",
    verify=_verify_report,
)


def _verify_migrate(lab, answer: str) -> None:
    require_pod(answer, "migrate")
    apply_answer(lab, answer)
    pod = _settled_or_restarted(lab, "migrate")
    ended = _last_termination(pod)
    if restart_count(pod):
        policy = (pod.get("spec") or {}).get("restartPolicy")
        raise AssertionError(f"✗ pod migrate ran the migration again after it had failed with exit "
                             f"code {ended.get('exitCode')}: restartPolicy {policy} restarts a "
                             "container that exits with a non-zero code")
    expect_equal("phase of pod migrate", pod.status.phase, "Failed")
    expect_equal("container task ended with exit code", ended.get("exitCode"), 3)
    expect_equal("reason of its terminated state", ended.get("reason"), "Error")
    runs = lab.logs("migrate").splitlines().count("applying migration 42")
    expect_equal("times the log says `applying migration 42`", runs, 1)


FAIL_WITHOUT_RETRY = Exercise(
    id="02-fail-without-retry",
    title="A failed task that must not run again",
    task="""\
Pod `migrate` applies a database migration. This one fails (exit code 3), and running
a half-applied migration a second time could damage the data, so the pod must stop at
the first failure: it must end in phase `Failed`, with the container's exit code 3
kept in its status, for a person to look at. As written, the kubelet runs the
migration again and again. Fix the pod; keep the container's command.""",
    starter=HERE / "ex6-migrate.starter.yaml",
    solution=HERE / "ex6-migrate.solution.yaml",
    hints=[
        "OnFailure means: restart the container when it fails. That is what happens here.",
        "Only one restartPolicy never restarts a container, whatever its exit code.",
        "Change `restartPolicy: OnFailure` to `restartPolicy: Never`.",
    ],
    starter_fails_with="restartPolicy OnFailure restarts a container that exits with a non-zero code",
    verify=_verify_migrate,
)
