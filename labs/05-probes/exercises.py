"""Exercises of lab 05, "Probes, hands-on" (labs/05-probes.ipynb).

Exercises 1 and 2 give a manifest to edit: its starter and one solution are YAML files beside
this module (exN-*.starter.yaml, exN-*.solution.yaml). The check applies the reader's
manifest in the lab's namespace and looks at what really happens: whether the kubelet
restarts a slow starter, and still restarts it once it hangs later (the check makes it
hang with lab.exec); and whether a busy pod leaves its Service's EndpointSlice and comes
back. Exercise 3 asks for a prediction instead: the window in which the kubelet kills a
container whose liveness check starts failing at a known time. Its check runs a fixed pod
(predict-liveness.yaml), measures the kill on a timeline of the container's own marks, and
compares the prediction with the kubelet's rules (podlab.probe_timing, a model of
pkg/kubelet/prober/worker.go), which the measurement must obey.
"""

from __future__ import annotations

import re
import time
from numbers import Real
from pathlib import Path

from podlab import (WaitTimeout, expect_equal, expect_true, is_ready, restart_count, restarted,
                    satisfies)
from podlab.timing import ProbeSetup, probe_timing
from podlab.exercises import Predictions, apply_answer, command_line, require_container, require_pod
from podlab.manifests import load_manifests
from podlab.timeouts import ANSWER_READY, EVENT_RECORDED

HERE = Path(__file__).resolve().parent


# -- Exercise 1: a liveness probe that kills a slow starter ---------------------------------------

# The task's promise: once the app is up, a hung app is restarted within this many seconds.
HANG_BOUND = 10
LOAD_SECONDS = 8


def probe_budget(probe: dict) -> int:
    """How long a probe can take to give up on a container that stopped answering, at most:
    periodSeconds x failureThreshold, each attempt waiting up to timeoutSeconds (API defaults 10, 3, 1)."""
    period = int(probe.get("periodSeconds", 10))
    failures = int(probe.get("failureThreshold", 3))
    timeout = int(probe.get("timeoutSeconds", 1))
    return period * failures + timeout


def verify_ledger(lab, answer: str) -> None:
    spec = require_pod(answer, "ledger")["spec"]
    app = require_container(spec, "ledger", "app")
    if f"sleep {LOAD_SECONDS}" not in command_line(app):
        raise AssertionError(f"✗ keep the app's command as it is: it needs its {LOAD_SECONDS} seconds of loading")
    liveness = app.get("livenessProbe")
    if not liveness:
        raise AssertionError(
            "✗ container app has no liveness probe any more: it would come up, but an app that hangs "
            "later would never be restarted. Keep the liveness probe, and give the start-up its time "
            "another way")
    budget = probe_budget(liveness)
    if budget > HANG_BOUND:
        raise AssertionError(
            f"✗ with this liveness probe a hung app is restarted only after up to {budget} s "
            f"(periodSeconds {liveness.get('periodSeconds', 10)} × failureThreshold "
            f"{liveness.get('failureThreshold', 3)}, plus timeoutSeconds {liveness.get('timeoutSeconds', 1)}); "
            f"the task allows {HANG_BOUND} s. Such a probe hides real failures: give the start-up its "
            "time without slowing down the liveness probe")
    apply_answer(lab, answer)
    pod = lab.wait("ledger", satisfies(lambda p: is_ready(p) or restart_count(p, "app") >= 1,
                                       "ready, or restarted"), timeout=ANSWER_READY)
    if restart_count(pod, "app") >= 1:
        event = lab.wait_for_event("ledger", "Killing", timeout=EVENT_RECORDED)
        startup = app.get("startupProbe")
        if startup and "startup probe" in (event.message or ""):
            raise AssertionError(
                f"✗ the kubelet restarted container app before it had finished loading (event "
                f"{event.reason}: {event.message}): the startup probe gives up after about "
                f"{probe_budget(startup)} s, and the app needs {LOAD_SECONDS} s. Give the start-up a "
                "larger budget")
        raise AssertionError(
            f"✗ the kubelet restarted container app before it had finished loading (event "
            f"{event.reason}: {event.message}). The liveness probe starts as soon as the container "
            f"runs and gives up after about {budget} s, while the app needs {LOAD_SECONDS} s before it "
            "answers /healthz; each restart starts the loading over, so it never gets there")
    served = lab.exec("ledger", "wget -q -O- http://127.0.0.1:8080/healthz", container="app")
    expect_equal("GET /healthz once the app is up", served.stdout.strip(), "ok")
    expect_equal("restarts of container app while it loaded", restart_count(lab.pod("ledger"), "app"), 0)
    # Now a real failure: the app stops answering /healthz (the check removes the file it serves).
    lab.exec("ledger", "rm /www/healthz", container="app").check()
    began = time.monotonic()
    try:
        lab.wait("ledger", restarted(1, container="app"), timeout=HANG_BOUND + 2)
    except WaitTimeout:
        raise AssertionError(
            f"✗ the app stopped answering /healthz (the check removed the file), and {HANG_BOUND} s "
            "later the kubelet had still not restarted it: a liveness probe that waits this long "
            "hides real failures") from None
    took = time.monotonic() - began
    expect_true(f"a hung app is restarted within {HANG_BOUND} s (measured: {took:.1f} s)", took <= HANG_BOUND)


# -- Exercise 2: readiness takes a busy pod out of its Service's endpoints -------------------------

# A busy pod must leave the endpoints within this many seconds: a probe every second that
# gives up after one to three failures, plus a moment for the EndpointSlice controller.
BUSY_BOUND = 6


def _endpoint_ready(slices, pod: str):
    """ready of the pod's endpoint in the Service's EndpointSlices; None if the pod has none."""
    for item in slices:
        for endpoint in item.get("endpoints") or []:
            if (endpoint.get("targetRef") or {}).get("name") == pod:
                return (endpoint.get("conditions") or {}).get("ready")
    return None


def _wait_endpoint(lab, ready: bool, timeout: float):
    return lab.wait_for_objects(
        "EndpointSlice", "kubernetes.io/service-name=quotes",
        lambda slices: _endpoint_ready(slices, "quotes") is ready,
        description=f"listing pod quotes with ready={str(ready).lower()}",
        api_version="discovery.k8s.io/v1", timeout=timeout)


def _why_still_ready(app: dict) -> str:
    probe = app.get("readinessProbe")
    if not probe:
        return "without a readiness probe, a pod is ready as long as its containers run"
    if "tcpSocket" in probe:
        return ("a tcpSocket probe only asks whether the port accepts connections, and httpd accepts "
                "them while the app is busy")
    if "httpGet" in probe:
        return "the page the probe asks for is served whether or not the app is busy"
    return f"the readiness probe (every {probe.get('periodSeconds', 10)} s) never failed while /tmp/busy existed"


def verify_quotes(lab, answer: str) -> None:
    spec = require_pod(answer, "quotes")["spec"]
    app = require_container(spec, "quotes", "app")
    if not any(o.get("kind") == "Service" and o["metadata"].get("name") == "quotes"
               for o in load_manifests(answer)):
        raise AssertionError("✗ keep the Service `quotes`: the check reads its EndpointSlices")
    apply_answer(lab, answer)
    lab.wait("quotes", satisfies(is_ready, "ready"), timeout=ANSWER_READY)
    slices = _wait_endpoint(lab, True, ANSWER_READY)
    expect_equal("ready of pod quotes in the EndpointSlice of Service quotes", _endpoint_ready(slices, "quotes"), True)
    lab.exec("quotes", "touch /tmp/busy", container="app").check()  # a re-index begins
    try:
        slices = _wait_endpoint(lab, False, BUSY_BOUND)
    except WaitTimeout:
        raise AssertionError(
            f"✗ the app was busy (/tmp/busy existed) for {BUSY_BOUND} s, and its endpoint stayed "
            f"ready=true in the EndpointSlice of Service quotes, so the Service went on sending it "
            f"requests: {_why_still_ready(app)}") from None
    expect_equal("while busy: ready of pod quotes (no new requests)", _endpoint_ready(slices, "quotes"), False)
    lab.exec("quotes", "rm -f /tmp/busy", container="app").check()  # the re-index is over
    try:
        slices = _wait_endpoint(lab, True, BUSY_BOUND)
    except WaitTimeout:
        raise AssertionError(f"✗ the app was no longer busy, but {BUSY_BOUND} s later its endpoint was "
                             "still not ready=true: the pod must come back once the work is done") from None
    expect_equal("busy no more: ready of pod quotes", _endpoint_ready(slices, "quotes"), True)
    expect_equal("restarts of container app (being busy is not a failure)",
                 restart_count(lab.pod("quotes"), "app"), 0)


# -- Exercise 3: predict, then observe: when does a liveness probe kill? ---------------------------

PREDICT_FILE = HERE / "predict-liveness.yaml"
PREDICT_POD = "failing-health"
# The app removes the page its liveness probe asks for this long after it starts: read from the
# manifest's script, so that the file and the rules the check applies cannot drift apart.
_FAILS_AFTER = re.compile(r"\(sleep (\d+); rm /www/healthz")


def predict_setup() -> ProbeSetup:
    """The liveness probe of predict-liveness.yaml and its app's failure time, as a podlab.ProbeSetup."""
    pod = load_manifests(PREDICT_FILE)[0]
    app = pod["spec"]["containers"][0]
    probe = app["livenessProbe"]
    found = _FAILS_AFTER.search(command_line(app))
    if found is None:
        raise ValueError(f"{PREDICT_FILE.name}: the app's script no longer says when /healthz goes away")
    return ProbeSetup(kind="liveness", initial_delay=int(probe.get("initialDelaySeconds", 0)),
                      period=int(probe.get("periodSeconds", 10)), timeout=int(probe.get("timeoutSeconds", 1)),
                      failure_threshold=int(probe.get("failureThreshold", 3)), fails_after=float(found[1]),
                      failure="error")  # a missing page is a 404 at once, not a hang


PREDICT_KEYS = ("earliest", "latest")
TOLERANCE = 0.5  # predictions are whole (or half) seconds; the rules' ends are exact


def _seconds(value: float) -> str:
    return f"{round(value, 1):g} s"


def _a_window(predictions) -> None:
    odd = [key for key in PREDICT_KEYS if isinstance(predictions[key], bool) or not isinstance(predictions[key], Real)]
    if odd:
        raise AssertionError(f"✗ {', '.join(odd)}: a prediction is a number of seconds, e.g. 12 or 12.5")
    if predictions["earliest"] > predictions["latest"]:
        raise AssertionError("✗ earliest is later than latest: a window runs from the earlier moment to the later")


def _observe_kill(lab) -> dict[str, float]:
    """Run the predict pod and measure its kill against the rules' bound; return the rules' window."""
    setup = predict_setup()
    timing = probe_timing(setup)
    rules, bound = timing.acts, timing.bound
    assert rules is not None and bound is not None, "a liveness check that fails for good is always acted on"
    # Observe: run the pod and measure, on the container's own marks (microseconds), from its start
    # to the SIGTERM the kubelet's kill delivers to its trap.
    lab.delete(PREDICT_POD, grace_period=1)  # a clean start: no pod of an earlier attempt
    timeline = lab.timeline(PREDICT_POD)
    lab.apply(PREDICT_FILE)
    lab.wait(PREDICT_POD, restarted(1, container="app"), timeout=ANSWER_READY + rules.latest)
    killing = lab.wait_for_event(PREDICT_POD, "Killing", timeout=EVENT_RECORDED)
    lab.delete(PREDICT_POD)  # the restarted container ends too; the first run's marks are in lastState
    timeline.stop()
    expect_true("the kubelet's Killing event names the liveness probe", "failed liveness probe" in killing.message)
    timeline.expect_order("start", "check-fails", "SIGTERM")
    # The bound (ProbeTiming.bound): the rules' window, from timeoutSeconds earlier (a GET sent at a
    # tick just before the page went away can be served after it, and fail), plus podlab's allowance
    # for the kubelet to act on the result (sync the pod, stop the container, the signal reaching the
    # trap). (Ends to a tenth of a second: probe_timing samples the ticks' phases, so its ends lie a
    # few milliseconds off the true ones.)
    timeline.expect_between("start", "SIGTERM", round(bound.earliest, 1), round(bound.latest, 1))
    return {"earliest": rules.earliest, "latest": rules.latest}


verify_predict_liveness = Predictions(
    dict.fromkeys(PREDICT_KEYS, "the kubelet's rules"), "write a number of seconds after the container started",
    _observe_kill, validate=_a_window, same=lambda key, predicted, rule: abs(predicted - rule) <= TOLERANCE,
    label="{key} kill ({question})", show=_seconds, against="the rules give")
