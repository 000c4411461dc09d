"""Exercises of lab 01, "The downward API, hands-on" (labs/01-downward-api.ipynb).

Most exercises give a pod manifest to edit: its starter and one solution are YAML files
beside this module (exN-*.starter.yaml, exN-*.solution.yaml). The check applies the
reader's manifest in the lab's namespace, waits for the pod, and asserts what the
container really sees: files, file modes, environment variables, its own command line,
and names in cluster DNS. Exercise 2 asks for predictions instead, and its check runs a
fixed pod (predict.yaml) to compare them with what happens.
"""

from __future__ import annotations

from pathlib import Path

from podlab import WaitTimeout, expect_equal, expect_line, expect_same, expect_true, ready
from podlab.exercises import Predictions, require_pod
from podlab.timeouts import ANSWER_READY

HERE = Path(__file__).resolve().parent

# How long the DNS check keeps asking. CoreDNS learns of a new Service and its endpoints
# from a watch, usually within a second; nothing upstream promises a bound, so this is ours.
DNS_TIMEOUT = 30.0
# Upstream's conformance test "Downward API volume should update labels on modification"
# (test/e2e/common/storage/downwardapi_volume.go, Kubernetes v1.37.2) waits up to
# podLogTimeout = 3 * time.Minute for the file to show a changed label.
LABEL_UPDATE_BOUND = 180.0


def _ready_pod(lab, answer, name: str, *, timeout: float = ANSWER_READY):
    """Apply the answer, insist that it defines the pod `name`, and wait until it is Ready."""
    require_pod(answer, name)
    lab.apply(answer)
    return lab.wait(name, ready, timeout=timeout)


def _env(lab, pod: str, variable: str) -> str:
    """A variable of the container's environment ('' when unset), as a fresh process sees it."""
    return lab.env(pod).get(variable, "")


def _env_source(pod, variable: str) -> dict:
    """The valueFrom of the container's env entry `variable` ({} when it has none)."""
    for entry in pod["spec"]["containers"][0].get("env") or []:
        if entry.get("name") == variable:
            return entry.get("valueFrom") or {}
    return {}


# -- Exercise 1: labels and annotations as files ----------------------------------------------

def verify_labels(lab, answer: str) -> None:
    _ready_pod(lab, answer, "podinfo")
    listing = lab.exec("podinfo", ["ls", "/etc/podinfo"]).stdout.rstrip("\n")
    expect_line("ls /etc/podinfo", listing, "labels")
    expect_line("ls /etc/podinfo", listing, "annotations")
    for path, wanted in (("/etc/podinfo/labels", ('app="shop"', 'zone="us-east"')),
                         ("/etc/podinfo/annotations", ('build="42"', 'team="payments"'))):
        text = lab.read_file("podinfo", path)
        for line in wanted:
            expect_line(path, text, line)


# -- Exercise 2: predict, then observe ----------------------------------------------------------

# What the reader predicts, with the question each key answers.
_QUESTIONS = {
    "cpu_limit": "$CPU_LIMIT (limits.cpu 1250m, no divisor)",
    "zone_after_relabel": "$ZONE after the label zone changed to eu-west",
    "late_service_host": "LATE_SERVICE_HOST set for a Service created after the container",
}


def _yes_or_no(predictions) -> None:
    if not isinstance(predictions["late_service_host"], bool):
        raise AssertionError("✗ late_service_host is a yes-or-no question: predict True or False")


def _observe(lab) -> dict:
    # A clean start: no pod of an earlier attempt, and no Service `late` yet.
    for name in ("predict.yaml", "predict-newer.yaml", "late-service.yaml"):
        lab.delete(HERE / name)
    # The kubelet learns of the deleted Service through a watch: start again if it had not yet.
    lab.recreate_until(HERE / "predict.yaml", "predict",
                       lambda pod: "LATE_SERVICE_HOST" not in lab.env("predict"),
                       description="without variables of the deleted Service late")
    observed = {"cpu_limit": _env(lab, "predict", "CPU_LIMIT")}

    # Relabel the running pod, and wait until the kubelet has seen it (the file follows).
    lab.apply(HERE / "predict-eu-west.yaml")
    lab.exec_until("predict", "grep -qx 'zone=\"eu-west\"' /etc/podinfo/labels", timeout=LABEL_UPDATE_BOUND)
    observed["zone_after_relabel"] = _env(lab, "predict", "ZONE")

    # Create Service late; a pod started after it gets its variables, so the kubelet knows it.
    lab.apply(HERE / "late-service.yaml")
    lab.recreate_until(HERE / "predict-newer.yaml", "predict-newer",
                       lambda pod: "LATE_SERVICE_HOST" in lab.env("predict-newer"),
                       description="with Service late's variables")
    observed["late_service_host"] = "LATE_SERVICE_HOST" in lab.env("predict")
    return observed


def _same(key: str, predicted, observed) -> bool:
    if key == "late_service_host":
        return predicted is observed
    return str(predicted).strip() == str(observed)


verify_predictions = Predictions(_QUESTIONS, "replace each None with your guess", _observe,
                                 answered=lambda value: value not in (None, "", "?"), validate=_yes_or_no,
                                 same=_same, label="{question}")


# -- Exercise 3: resource limits in useful units ------------------------------------------------

def verify_limits(lab, answer: str) -> None:
    pod = _ready_pod(lab, answer, "limits")
    limits = pod["spec"]["containers"][0].get("resources", {}).get("limits") or {}
    expect_equal("the container's limits.cpu", limits.get("cpu"), "500m")
    expect_equal("the container's limits.memory", limits.get("memory"), "64Mi")
    for variable, resource in (("CPU_LIMIT_MILLICORES", "limits.cpu"),
                               ("MEMORY_LIMIT_MIB", "limits.memory")):
        field = _env_source(pod, variable).get("resourceFieldRef") or {}
        expect_equal(f"${variable} comes from resourceFieldRef", field.get("resource"), resource)
    expect_equal("$CPU_LIMIT_MILLICORES", _env(lab, "limits", "CPU_LIMIT_MILLICORES"), "500")
    expect_equal("$MEMORY_LIMIT_MIB", _env(lab, "limits", "MEMORY_LIMIT_MIB"), "64")


# -- Exercise 4: the pod's IP and node name ------------------------------------------------------

def verify_where(lab, answer: str) -> None:
    pod = _ready_pod(lab, answer, "whereami")
    pod_ip = _env(lab, "whereami", "POD_IP")
    status = pod["status"]
    if pod_ip and pod_ip == status.get("hostIP") != status.get("podIP"):
        raise AssertionError("✗ $POD_IP holds the node's IP (status.hostIP), not the pod's own IP")
    expect_same("$POD_IP is the pod's IP (status.podIP)", pod_ip, status.get("podIP"))
    expect_true("$NODE_NAME is set from a fieldRef", "fieldRef" in _env_source(pod, "NODE_NAME"))
    expect_same("$NODE_NAME is the pod's node (spec.nodeName)", _env(lab, "whereami", "NODE_NAME"),
                pod["spec"].get("nodeName"))


# -- Exercise 5: owner-only files -----------------------------------------------------------------

def verify_private(lab, answer: str) -> None:
    _ready_pod(lab, answer, "private")
    for name in ("labels", "annotations"):
        path = f"/etc/podinfo/{name}"
        # -L: the names in the volume are symlinks (labels -> ..data/labels); stat the file.
        mode = lab.exec("private", ["stat", "-L", "-c", "%a", path]).stdout.strip()
        if mode == "620":
            raise AssertionError(f"✗ {path} has mode 620: `400` without a leading zero is the "
                                 "decimal number 400, which is 0620 in octal")
        expect_equal(f"mode of {path} (stat -L -c %a)", mode, "400")
    labels = lab.read_file("private", "/etc/podinfo/labels")
    expect_line("/etc/podinfo/labels (still readable by its owner, root)", labels, 'zone="us-east"')


# -- Exercise 6: a name in cluster DNS: hostname, subdomain and a headless Service -----------------

def verify_dns(lab, answer: str) -> None:
    pod = _ready_pod(lab, answer, "shopfront")
    fqdn = f"www.shop.{lab.namespace}.svc.cluster.local"
    # Inside the pod, hostname and subdomain alone make the name: the kubelet writes /etc/hosts.
    expect_equal("hostname -f in pod shopfront", lab.exec("shopfront", ["hostname", "-f"]).stdout.strip(), fqdn)
    hosts = lab.read_file("shopfront", "/etc/hosts")
    expect_true(f"/etc/hosts of pod shopfront maps {fqdn} to the pod's IP",
                any(line.split()[:2] == [pod["status"]["podIP"], fqdn] for line in hosts.splitlines()
                    if line.strip() and not line.startswith("#")))
    # Another pod asks cluster DNS. busybox's nslookup: full names only, exit code 0 on an answer.
    lab.apply(HERE / "dns-client.yaml")
    lab.wait("dns-client", ready, timeout=ANSWER_READY)
    lookup = ["nslookup", fqdn]
    try:
        lab.exec_until("dns-client", lookup, timeout=DNS_TIMEOUT)
    except WaitTimeout:
        answer_text = lab.exec("dns-client", lookup).stdout
        said = next((line.strip() for line in answer_text.splitlines() if "can't find" in line),
                    "no answer")
        raise AssertionError(f"✗ {fqdn} does not resolve from pod dns-client (asked for "
                             f"{DNS_TIMEOUT:.0f} s; cluster DNS said: {said})") from None
    answer_text = lab.exec("dns-client", lookup).check().stdout
    after_name = answer_text.split("Name:", 1)[-1]
    addresses = [line.split(":", 1)[1].strip() for line in after_name.splitlines()
                 if line.startswith("Address")]
    expect_same(f"{fqdn} resolves from pod dns-client to pod shopfront's IP", addresses, [pod["status"]["podIP"]])


# -- Exercise 7: Service variables, expanded by the kubelet with $(VAR) ---------------------------

def verify_service_vars(lab, answer: str) -> None:
    require_pod(answer, "frontend")
    lab.apply(HERE / "backend.yaml")  # the Service first, then the pod that wants its variables
    # The kubelet computes Service variables from its own watch of Services: a pod created
    # right after the Service can miss them. Upstream's conformance test ("Pods should contain
    # environment variables for services") retries for the same reason; so does this check.
    lab.recreate_until(answer, "frontend", lambda pod: "BACKEND_SERVICE_HOST" in lab.env("frontend"),
                       description="with the backend Service's variables", timeout=ANSWER_READY)
    service = lab.get("Service", "backend")
    url = f"http://{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"
    argv = lab.exec("frontend", ["cat", "/proc/1/cmdline"]).check().stdout.split("\0")
    given = [arg.split("=", 1)[1] for arg in argv if arg.startswith("--backend=")]
    if not given:
        raise AssertionError("✗ PID 1 of pod frontend has no --backend=... argument: keep the starter's args")
    value = given[0]
    if "$(" in value:
        raise AssertionError(f"✗ PID 1 got {value!r}: Kubernetes leaves $(NAME) as it is when the "
                             "container has no variable NAME (the Service `backend` gives "
                             "BACKEND_SERVICE_HOST and BACKEND_SERVICE_PORT)")
    if "$" in value:
        raise AssertionError(f"✗ PID 1 got the literal text {value!r}: no shell reads command or "
                             "args, and Kubernetes expands only the $(NAME) form")
    expect_same("PID 1 of pod frontend got --backend=http://<backend's cluster IP>:8080", value, url)
