"""Exercises of lab 01, "The downward API, hands-on" (labs/01-downward-api.ipynb).

Most exercises give a pod manifest to edit: its starter and one solution are YAML files
beside this module (exN-*.starter.yaml, exN-*.solution.yaml). The check applies the
reader's manifest in the lab's namespace, waits for the pod, and asserts what the
container really sees: files, file modes, environment variables, its own command line,
and names in cluster DNS. Exercise 2 asks for predictions instead, and its check runs a
fixed pod (predict.yaml) to compare them with what happens.

Each exercise names the failure its starter is meant to produce (starter_fails_with);
tests/live/test_exercises.py proves on a live cluster that the starter fails with it and
that the solution passes.
"""

from __future__ import annotations

from pathlib import Path

from podlab import (Exercise, WaitTimeout, expect_equal, expect_line, expect_same, expect_true,
                    ready)
from podlab.exercises import compare_predictions, require_pod, require_predictions

HERE = Path(__file__).resolve().parent

READY_TIMEOUT = 60.0
# How long the DNS check keeps asking. CoreDNS learns of a new Service and its endpoints
# from a watch, usually within a second; nothing upstream promises a bound, so this is ours.
DNS_TIMEOUT = 30.0
# Upstream's conformance test "Downward API volume should update labels on modification"
# (test/e2e/common/storage/downwardapi_volume.go, Kubernetes v1.37.2) waits up to
# podLogTimeout = 3 * time.Minute for the file to show a changed label.
LABEL_UPDATE_BOUND = 180.0



def _ready_pod(lab, answer, name: str, *, timeout: float = READY_TIMEOUT):
    """Apply the answer, insist that it defines the pod `name`, and wait until it is Ready."""
    require_pod(answer, name)
    lab.apply(answer)
    return lab.wait(name, ready, timeout=timeout)


def _env(lab, pod: str, variable: str) -> str:
    """A variable of the container's environment ('' when unset), as a fresh process sees it."""
    return lab.env(pod).get(variable, "")


def _env_source(pod, variable: str):
    """The valueFrom of the container's env entry `variable`, or None."""
    for entry in pod.spec.containers[0].env or []:
        if entry.name == variable:
            return entry.value_from
    return None


# -- Exercise 1: labels and annotations as files ----------------------------------------------

def _verify_labels(lab, answer: str) -> None:
    _ready_pod(lab, answer, "podinfo")
    listing = lab.exec("podinfo", ["ls", "/etc/podinfo"]).stdout.rstrip("\n")
    expect_line("ls /etc/podinfo", listing, "labels")
    expect_line("ls /etc/podinfo", listing, "annotations")
    labels = lab.read_file("podinfo", "/etc/podinfo/labels")
    expect_line("/etc/podinfo/labels", labels, 'app="shop"')
    expect_line("/etc/podinfo/labels", labels, 'zone="us-east"')
    annotations = lab.read_file("podinfo", "/etc/podinfo/annotations")
    expect_line("/etc/podinfo/annotations", annotations, 'build="42"')
    expect_line("/etc/podinfo/annotations", annotations, 'team="payments"')


LABELS_AND_ANNOTATIONS = Exercise(
    id="01-labels-annotations-files",
    title="Labels and annotations as files",
    task="""\
The app in pod `podinfo` wants to read the pod's labels and annotations from files,
without calling the API server. Extend its downward API volume so that the container
finds two more files next to /etc/podinfo/name:

  /etc/podinfo/labels       every label of the pod, one `key="value"` line each
  /etc/podinfo/annotations  every annotation of the pod, the same way

Keep the pod's name, labels and annotations as they are.""",
    starter=HERE / "ex1-labels-files.starter.yaml",
    solution=HERE / "ex1-labels-files.solution.yaml",
    hints=[
        "Each file in a downwardAPI volume is one entry under `items`: a `path` (the file name) "
        "and a `fieldRef` saying which pod field goes into it. Copy the `name` item twice.",
        "Without a key, `metadata.labels` selects all labels at once (and `metadata.annotations` "
        "all annotations). `metadata.labels['zone']` would give only one value.",
        "The two new items are `path: labels` with `fieldPath: metadata.labels` and "
        "`path: annotations` with `fieldPath: metadata.annotations`.",
    ],
    starter_fails_with="ls /etc/podinfo: expected a line 'labels'",
    verify=_verify_labels,
)


# -- Exercise 2: predict, then observe ----------------------------------------------------------

# What the reader predicts, with the question each key answers.
_QUESTIONS = {
    "cpu_limit": "$CPU_LIMIT (limits.cpu 1250m, no divisor)",
    "zone_after_relabel": "$ZONE after the label zone changed to eu-west",
    "late_service_host": "LATE_SERVICE_HOST set for a Service created after the container",
}


def _verify_predictions(lab, predictions) -> None:
    require_predictions(predictions, _QUESTIONS, how="replace each None with your guess",
                        answered=lambda value: value not in (None, "", "?"))
    if not isinstance(predictions["late_service_host"], bool):
        raise AssertionError("✗ late_service_host is a yes-or-no question: predict True or False")

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

    def same(key: str) -> bool:
        if key == "late_service_host":
            return predictions[key] is observed[key]
        return str(predictions[key]).strip() == str(observed[key])
    compare_predictions([(question, predictions[key], observed[key], same(key))
                         for key, question in _QUESTIONS.items()])


PREDICT_THEN_OBSERVE = Exercise(
    id="01-predict-then-observe",
    title="Predict, then observe",
    task="""\
Pod `predict` (01-downward-api/predict.yaml) has a CPU limit of 1250m, the variable
CPU_LIMIT from that limit (resourceFieldRef, no divisor), the variable ZONE from its
label zone=us-east, and the file /etc/podinfo/labels. Kubernetes also gives every
container variables for the Services of its namespace (`KUBERNETES_SERVICE_HOST`, and
LATE_SERVICE_HOST for a Service named `late`). Predict, before you run anything:

  cpu_limit           what $CPU_LIMIT holds (a string, as `echo $CPU_LIMIT` prints it)
  zone_after_relabel  what $ZONE holds, in a new `kubectl exec`, once the pod's label
                      has been changed to zone=eu-west and the file shows the change
  late_service_host   True or False: is LATE_SERVICE_HOST set in the running container
                      after a Service `late` has been created?

The check runs the pod, makes both changes, and compares what it observes with your
predictions.""",
    starter={key: None for key in _QUESTIONS},
    solution={"cpu_limit": "2", "zone_after_relabel": "us-east", "late_service_host": False},
    hints=[
        "A resourceFieldRef gives a whole number: the limit divided by the divisor (1 core by "
        "default), rounded one way or the other.",
        "Environment variables are computed when the kubelet creates the container; a "
        "downwardAPI file is rewritten when the pod changes.",
        "Service variables are environment variables like the others.",
    ],
    starter_fails_with="no prediction yet",
    verify=_verify_predictions,
)


# -- Exercise 3: resource limits in useful units ------------------------------------------------

def _verify_limits(lab, answer: str) -> None:
    pod = _ready_pod(lab, answer, "limits")
    limits = pod.spec.containers[0].resources.limits or {}
    expect_equal("the container's limits.cpu", limits.get("cpu"), "500m")
    expect_equal("the container's limits.memory", limits.get("memory"), "64Mi")
    for variable, resource in (("CPU_LIMIT_MILLICORES", "limits.cpu"),
                               ("MEMORY_LIMIT_MIB", "limits.memory")):
        source = _env_source(pod, variable)
        field = source.resource_field_ref if source else None
        expect_equal(f"${variable} comes from resourceFieldRef", field and field.resource, resource)
    expect_equal("$CPU_LIMIT_MILLICORES", _env(lab, "limits", "CPU_LIMIT_MILLICORES"), "500")
    expect_equal("$MEMORY_LIMIT_MIB", _env(lab, "limits", "MEMORY_LIMIT_MIB"), "64")


RESOURCE_LIMITS = Exercise(
    id="01-limits-in-units",
    title="Resource limits in the units the app wants",
    task="""\
The container in pod `limits` may use half a CPU (500m) and 64 MiB of memory. Its app
sizes its worker pool from $CPU_LIMIT_MILLICORES and its cache from $MEMORY_LIMIT_MIB,
so it needs CPU_LIMIT_MILLICORES=500 and MEMORY_LIMIT_MIB=64. The starter already takes
both variables from the container's limits with resourceFieldRef, but the values come out
in the wrong units. Fix that without changing the limits (and without typing the numbers
in: the variables must still follow the limits).""",
    starter=HERE / "ex3-limits.starter.yaml",
    solution=HERE / "ex3-limits.solution.yaml",
    hints=[
        "Run the check on the starter and look at what the variables hold now: CPU in whole "
        "cores and memory in bytes.",
        "A resourceFieldRef can carry a `divisor`: the value exposed is the resource divided by "
        "it. Without one the divisor is 1 (one core, one byte), and the result is rounded UP "
        "to a whole number, which is how 500m turns into 1.",
        "Add `divisor: 1m` under the CPU resourceFieldRef and `divisor: 1Mi` under the memory one.",
    ],
    starter_fails_with="$CPU_LIMIT_MILLICORES: expected '500'; observed '1'",
    verify=_verify_limits,
)


# -- Exercise 4: the pod's IP and node name ------------------------------------------------------

def _verify_where(lab, answer: str) -> None:
    pod = _ready_pod(lab, answer, "whereami")
    pod_ip = _env(lab, "whereami", "POD_IP")
    if pod_ip and pod_ip == pod.status.host_ip != pod.status.pod_ip:
        raise AssertionError("✗ $POD_IP holds the node's IP (status.hostIP), not the pod's own IP")
    expect_same("$POD_IP is the pod's IP (status.podIP)", pod_ip, pod.status.pod_ip)
    source = _env_source(pod, "NODE_NAME")
    expect_true("$NODE_NAME is set from a fieldRef", source is not None and source.field_ref is not None)
    expect_same("$NODE_NAME is the pod's node (spec.nodeName)", _env(lab, "whereami", "NODE_NAME"),
                pod.spec.node_name)


POD_IP_AND_NODE = Exercise(
    id="01-pod-ip-and-node",
    title="Where am I running?",
    task="""\
The app in pod `whereami` registers itself with a discovery service and reports two
things: its own IP address, in $POD_IP, and the node it runs on, in $NODE_NAME. The
starter's POD_IP holds the wrong address and NODE_NAME is missing. Fix POD_IP and add
NODE_NAME, both filled in by the downward API (neither value is known before the pod
is scheduled, so they cannot be typed into the manifest).""",
    starter=HERE / "ex4-whereami.starter.yaml",
    solution=HERE / "ex4-whereami.solution.yaml",
    hints=[
        "status.hostIP is the address of the node. The pod's own address lives in another "
        "status field.",
        "The pod's IP is `status.podIP`; the node's name is `spec.nodeName`. Both go into "
        "`valueFrom.fieldRef.fieldPath` of an env entry.",
        "These two fields exist only as environment variables: a downwardAPI volume item "
        "with `spec.nodeName` or `status.podIP` is rejected by the API server.",
    ],
    starter_fails_with="$POD_IP holds the node's IP (status.hostIP)",
    verify=_verify_where,
)


# -- Exercise 5: owner-only files -----------------------------------------------------------------

def _verify_private(lab, answer: str) -> None:
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


OWNER_ONLY_FILES = Exercise(
    id="01-owner-only-files",
    title="Files only their owner can read",
    task="""\
Pod `private` exposes its labels and annotations in /etc/podinfo. A security review asks
that these files be readable by their owner only: `stat -L -c %a` must print 400 for
both /etc/podinfo/labels and /etc/podinfo/annotations (today it prints 644). The app
runs as root, the files' owner, so it can still read them.""",
    starter=HERE / "ex5-owner-only.starter.yaml",
    solution=HERE / "ex5-owner-only.solution.yaml",
    hints=[
        "A downwardAPI volume sets file modes in two places: `defaultMode` for every file of "
        "the volume, and `mode` on a single item, which wins over the default.",
        "Modes are numbers. In YAML a leading zero makes them octal: 0400 means r-------- "
        "(JSON has no octal numbers; there you would write its decimal value, 256).",
        "Add `defaultMode: 0400` under `downwardAPI:` (or `mode: 0400` on both items). "
        "Careful: `400` without the zero is decimal 400, which is 0620 in octal.",
    ],
    starter_fails_with="(stat -L -c %a): expected '400'; observed '644'",
    verify=_verify_private,
)


# -- Exercise 6: a name in cluster DNS: hostname, subdomain and a headless Service -----------------

def _verify_dns(lab, answer: str) -> None:
    pod = _ready_pod(lab, answer, "shopfront")
    fqdn = f"www.shop.{lab.namespace}.svc.cluster.local"
    # Inside the pod, hostname and subdomain alone make the name: the kubelet writes /etc/hosts.
    expect_equal("hostname -f in pod shopfront", lab.exec("shopfront", ["hostname", "-f"]).stdout.strip(), fqdn)
    hosts = lab.read_file("shopfront", "/etc/hosts")
    expect_true(f"/etc/hosts of pod shopfront maps {fqdn} to the pod's IP",
                any(line.split()[:2] == [pod.status.pod_ip, fqdn] for line in hosts.splitlines()
                    if line.strip() and not line.startswith("#")))
    # Another pod asks cluster DNS. busybox's nslookup: full names only, exit code 0 on an answer.
    lab.apply(HERE / "dns-client.yaml")
    lab.wait("dns-client", ready, timeout=READY_TIMEOUT)
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
    expect_same(f"{fqdn} resolves from pod dns-client to pod shopfront's IP", addresses, [pod.status.pod_ip])


DNS_NAME = Exercise(
    id="01-hostname-subdomain-dns",
    title="A name other pods can look up",
    task="""\
Pod `shopfront` sets `hostname: www` and `subdomain: shop`. Inside the pod, `hostname -f`
already prints www.shop.<namespace>.svc.cluster.local. Make that name resolve in cluster
DNS, so that another pod (the check uses one named dns-client) can look it up and gets
shopfront's IP. Keep the pod's name, hostname and subdomain; you may add objects to the
manifest (separate them with a line `---`).""",
    starter=HERE / "ex6-dns.starter.yaml",
    solution=HERE / "ex6-dns.solution.yaml",
    hints=[
        "The FQDN in `hostname -f` comes from /etc/hosts, which the kubelet writes into this "
        "pod only. Other pods ask the cluster's DNS server, which knows names from Services.",
        "Cluster DNS serves <hostname>.<subdomain>.<namespace>.svc.cluster.local for a pod when "
        "a headless Service named like the subdomain selects that pod.",
        "Add a Service named `shop` with `clusterIP: None` and `selector: {app: shopfront}` "
        "(ports are optional for a headless Service).",
    ],
    starter_fails_with="does not resolve from pod dns-client",
    verify=_verify_dns,
)


# -- Exercise 7: Service variables, expanded by the kubelet with $(VAR) ---------------------------

def _verify_service_vars(lab, answer: str) -> None:
    require_pod(answer, "frontend")
    lab.apply(HERE / "backend.yaml")  # the Service first, then the pod that wants its variables
    # The kubelet computes Service variables from its own watch of Services: a pod created
    # right after the Service can miss them. Upstream's conformance test ("Pods should contain
    # environment variables for services") retries for the same reason; so does this check.
    lab.recreate_until(answer, "frontend", lambda pod: "BACKEND_SERVICE_HOST" in lab.env("frontend"),
                       description="with the backend Service's variables", timeout=READY_TIMEOUT)
    service = lab.get("Service", "backend")
    url = f"http://{service.spec.cluster_ip}:{service.spec.ports[0].port}"
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


SERVICE_VARIABLES = Exercise(
    id="01-service-variables",
    title="The backend's address from Service variables",
    task="""\
Service `backend` (01-downward-api/backend.yaml, port 8080) exists before pod `frontend`
starts, so the kubelet gives the container BACKEND_SERVICE_HOST and BACKEND_SERVICE_PORT.
The app in `frontend` takes the backend's URL as an argument, and must be started with

  --backend=http://<the Service's cluster IP>:8080

The starter passes the variables the way a shell script would, and the app gets the text
as written. Fix the argument so that the app gets the address, without a shell and
without typing the IP in (it is assigned when the Service is created).""",
    starter=HERE / "ex7-service-vars.starter.yaml",
    solution=HERE / "ex7-service-vars.solution.yaml",
    hints=[
        "`command` and `args` are handed to the container runtime as a list of words: no shell "
        "reads them, so `$NAME` and `${NAME}` mean nothing there.",
        "The kubelet itself expands variable references in command and args, but only in the "
        "form $(NAME), with parentheses (`$$(NAME)` escapes it).",
        "Write the argument as --backend=http://$(BACKEND_SERVICE_HOST):$(BACKEND_SERVICE_PORT).",
    ],
    starter_fails_with="got the literal text",
    verify=_verify_service_vars,
)
