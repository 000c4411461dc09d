"""Exercises of lab 04, "Stopping and starting, hands-on" (labs/04-stopping-and-starting.ipynb).

Exercises 1 and 2 give a manifest to edit: its starter and one solution are YAML files beside
this module (exN-*.starter.yaml, exN-*.solution.yaml). The check applies the reader's
manifest in the lab's namespace and looks at what really happens: how a deleted pod's
container ended (exit code, and the notes it left in its termination message, read from a
timeline of the deletion); and whether an app that needs a Service started only after the
Service existed (the check creates the Service late). Exercise 3 asks for predictions
instead, and its check runs fixed pods (predict-init.yaml).
"""

from __future__ import annotations

import re
from pathlib import Path

from podlab import (PodlabError, WaitTimeout, expect_equal, expect_line, expect_true, is_ready,
                    restart_count, satisfies)
from podlab.exercises import (Predictions, apply_answer, command_line, container_status, one_of,
                              require_container, require_pod)
from podlab.timeouts import ANSWER_READY

HERE = Path(__file__).resolve().parent


def _has_run(pod, container: str) -> bool:
    """Whether the container has started at least once (it runs, has ended, or has restarted)."""
    cs = container_status(pod, container)
    state, last = cs.get("state") or {}, cs.get("lastState") or {}
    return bool(state.get("running") or state.get("terminated") or last.get("terminated")
                or cs.get("restartCount"))


# -- Exercise 1: finish the batch in hand within the grace period ---------------------------------

BATCH_SECONDS = 3
_TRAPS_TERM = re.compile(r"\btrap\b[^\n]*\b(TERM|SIGTERM|15)\b")


def verify_exporter(lab, answer: str) -> None:
    spec = require_pod(answer, "exporter")["spec"]
    app = require_container(spec, "exporter", "app")
    if "sleep 3" not in command_line(app) or "batch-" not in command_line(app):
        raise AssertionError("✗ keep the exporter's batches as they are (three seconds each, noted as "
                             "batch-N-started and batch-N-done)")
    grace = spec.get("terminationGracePeriodSeconds", 30)
    apply_answer(lab, answer)
    lab.wait("exporter", satisfies(is_ready, "ready"), timeout=ANSWER_READY)
    # Delete the pod just after a batch has started: it then has three seconds to go.
    lab.wait_for_log("exporter", "batch-1-started", container="app", timeout=ANSWER_READY)
    timeline = lab.timeline("exporter")
    lab.delete("exporter")
    timeline.stop()
    try:
        ended = timeline.moment("app exited")
    except PodlabError:
        raise AssertionError("✗ the timeline saw no end of container app") from None
    notes = [m.label for m in timeline.moments() if m.source == "marks app"]
    code = int(ended.detail.split(",")[0].split()[-1])
    started = [n.split("-")[1] for n in notes if n.startswith("batch-") and n.endswith("-started")]
    unfinished = [n for n in started if f"batch-{n}-done" not in notes]
    if code == 137:
        if not _TRAPS_TERM.search(command_line(app)):
            why = ("the container's first process, the shell, has no SIGTERM handler, and the kernel does "
                   "not apply SIGTERM's default action (terminate) to PID 1 of a PID namespace: the signal "
                   "did nothing, and the kubelet sent SIGKILL when the grace period was up")
        else:
            why = (f"the batch in hand needed up to 3 s more, more than the grace period of {grace} s "
                   "left, and then the kubelet sent SIGKILL")
        where = ("in the middle of a batch (its notes end with a batch-N-started, no batch-N-done)"
                 if unfinished else "(its notes show no batch cut short)")
        raise AssertionError(f"✗ the exporter was killed (exit code 137: SIGKILL) {where}: {why}")
    if unfinished:
        raise AssertionError(f"✗ the exporter exited ({ended.detail}) but left a batch unfinished (its notes "
                             "end with a batch-N-started, no batch-N-done): the SIGTERM handler must let the "
                             "batch in hand finish, then stop")
    if code != 0:
        raise AssertionError(f"✗ the exporter ended with {ended.detail} after finishing its batches: "
                             "it must exit 0 once it has stopped cleanly")
    if grace <= BATCH_SECONDS:
        raise AssertionError(
            f"✗ this time the batch was done before SIGKILL, but only by luck: after SIGTERM a batch may need "
            f"up to {BATCH_SECONDS} s, and the grace period is {grace} s (the kubelet's SIGKILL came late, or "
            "the deletion came late in the batch). Give the exporter a grace period longer than a batch")
    expect_equal("exit code of container app after the deletion", code, 0)
    expect_true("every batch the exporter started is done (its notes)", bool(started) and not unfinished)
    expect_true("the exporter exited before the grace period ended", timeline.order("app exited", "grace period ends"))


# -- Exercise 2: an init container waits for a Service --------------------------------------------

HOLD_SECONDS = 5  # the check creates the catalog Service this long after the pod's first container started
ENDED_TIMEOUT = 15.0  # an app that started without the Service gives up at once (wget: bad address)


def verify_report(lab, answer: str) -> None:
    spec = require_pod(answer, "report")["spec"]
    app = require_container(spec, "report", "app")
    if "http://catalog/" not in command_line(app):
        raise AssertionError("✗ keep the app's command: it reads the catalog from http://catalog/ as it starts")
    lab.delete(HERE / "catalog-service.yaml")  # the Service of an earlier attempt
    lab.apply(HERE / "catalog-backend.yaml")
    lab.wait("catalog", satisfies(is_ready, "ready"), timeout=ANSWER_READY)
    apply_answer(lab, answer)
    # The hold starts when the pod's first container has started (on a loaded machine a pod can
    # take seconds to get there): for a few seconds more there is no catalog Service, and the app
    # must not start meanwhile.
    containers = [c.get("name") for c in spec.get("initContainers") or []] + ["app"]
    first = lab.wait("report", satisfies(lambda p: any(_has_run(p, c) for c in containers),
                                         "a started container"), timeout=ANSWER_READY)
    early = _has_run(first, "app")
    if not early:
        try:
            lab.wait("report", satisfies(lambda p: _has_run(p, "app"), "running container app"),
                     timeout=HOLD_SECONDS)
            early = True
        except WaitTimeout:
            pass
    if early:
        # It started without the Service. Does it give up (as the starter's app does, at once)? The
        # kubelet restarts it then, without a back-off the first time; the log of the run that ended
        # is then the previous one.
        try:
            pod = lab.wait("report", satisfies(lambda p: restart_count(p, "app") >= 1, "restarted (container app)"),
                           timeout=ENDED_TIMEOUT)
        except WaitTimeout:
            raise AssertionError("✗ container app started before the catalog Service existed: something "
                                 "must hold it back until the Service answers") from None
        ended = (container_status(pod, "app").get("lastState") or {}).get("terminated") or {}
        log = lab.logs("report", container="app", previous=True).strip()
        raise AssertionError(
            f"✗ container app started before the catalog Service existed and gave up (exit code "
            f"{ended.get('exitCode')}; its log: `{' / '.join(log.splitlines())}`). Under restartPolicy "
            "Always the kubelet starts it again and again, with a growing back-off, until the Service "
            "happens to exist; nothing made the app wait for it")
    service = lab.apply(HERE / "catalog-service.yaml")[0]
    try:
        pod = lab.wait("report", satisfies(is_ready, "ready"), timeout=ANSWER_READY)
    except (WaitTimeout, PodlabError) as e:
        raise AssertionError(f"✗ the catalog Service exists, but pod report did not become ready: "
                             f"{str(e).splitlines()[0]}") from None
    started = (container_status(pod, "app").get("state") or {}).get("running", {}).get("startedAt", "")
    expect_true("container app started no earlier than the second the catalog Service was created (both times "
                "have whole seconds)",
                started >= service["metadata"]["creationTimestamp"])
    expect_equal("restarts of container app", restart_count(pod, "app"), 0)
    if not any("catalog" in command_line(c) for c in spec.get("initContainers") or []):
        raise AssertionError(
            "✗ the app started after the Service this time, but nothing in the pod asks for the catalog "
            "before the app starts (no init container mentions it): a fixed wait works only while the "
            "Service happens to come in time. Let the wait end when the catalog answers")
    log = lab.wait_for_log("report", "serving with", container="app", timeout=ANSWER_READY)
    expect_line("log of container app", log, "report: serving with items=42")


# -- Exercise 3: predict, then observe: a failing init container under each restartPolicy ----------

PREDICT_FILE = "predict-init.yaml"
OUTCOMES = ("app starts", "init runs again", "pod fails")
OUTCOME_WORDS = ", ".join(map(repr, OUTCOMES))
_PREDICT_PODS = {
    "init-never": "restartPolicy: Never",
    "init-onfailure": "restartPolicy: OnFailure",
    "init-always": "restartPolicy: Always",
}


def _outcome(pod) -> str | None:
    if _has_run(pod, "app"):
        return "app starts"
    if restart_count(pod, "migrate") >= 1:
        return "init runs again"
    if (pod.get("status") or {}).get("phase") == "Failed":
        return "pod fails"
    return None


def _observe_init(lab) -> dict[str, str]:
    lab.delete(HERE / PREDICT_FILE, grace_period=1)  # a clean start: no pod of an earlier attempt
    lab.apply(HERE / PREDICT_FILE)
    return {name: _outcome(lab.wait(name, satisfies(lambda p: _outcome(p) is not None,
                                                    "past the first failure of init container migrate"),
                                    timeout=ANSWER_READY))
            for name in _PREDICT_PODS}


verify_predict_init = Predictions(
    _PREDICT_PODS, f"write one of {OUTCOME_WORDS} for each pod", _observe_init,
    validate=one_of(dict.fromkeys(_PREDICT_PODS, OUTCOMES), say=f"a prediction is one of {OUTCOME_WORDS}"))
