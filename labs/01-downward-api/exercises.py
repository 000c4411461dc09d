"""Exercises of lab 01, "The downward API, hands-on" (labs/01-downward-api.ipynb).

Each exercise gives a pod manifest to edit. Its check applies the reader's manifest in the
lab's namespace, waits for the pod, and asserts what the container really sees: file
contents, file modes and environment variables read with `kubectl exec`-style calls.
tests/live/test_exercises.py proves on a live cluster that every starter fails its check
for the intended reason (starter_fails_with) and every solution passes it.
"""

from __future__ import annotations

from podlab import LAB_IMAGE, Exercise, expect_equal, expect_line, expect_same, expect_true

READY_TIMEOUT = 60.0

# PID 1 gets no default SIGTERM handling from the kernel: without the trap, `sleep` would
# ignore the TERM the kubelet sends and the pod would take its whole grace period to stop.
COMMAND = """["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]"""


def _ready_pod(lab, answer: str, name: str):
    """Apply the answer, insist that it defines the pod `name`, and wait until it is Ready."""
    applied = lab.apply(answer)
    pods = [o["metadata"]["name"] for o in applied if o.get("kind") == "Pod"]
    if name not in pods:
        raise AssertionError(f"✗ the manifest must define a Pod named {name!r} "
                             f"(keep the starter's name); it defines {pods or 'no pod'}")
    return lab.wait_for_ready(name, timeout=READY_TIMEOUT)


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

_LABELS_POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: podinfo
  labels:
    app: shop
    zone: us-east
  annotations:
    build: "42"
    team: payments
spec:
  containers:
  - name: app
    image: {LAB_IMAGE}
    imagePullPolicy: IfNotPresent
    command: {COMMAND}
    volumeMounts:
    - name: podinfo
      mountPath: /etc/podinfo
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - path: name
        fieldRef:
          fieldPath: metadata.name
"""

_LABELS_STARTER = _LABELS_POD + """\
      # TODO: a file "labels" with all the pod's labels,
      #       and a file "annotations" with all its annotations
"""

_LABELS_SOLUTION = _LABELS_POD + """\
      - path: labels
        fieldRef:
          fieldPath: metadata.labels
      - path: annotations
        fieldRef:
          fieldPath: metadata.annotations
"""


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
    starter=_LABELS_STARTER,
    solution=_LABELS_SOLUTION,
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


# -- Exercise 2: resource limits in useful units ------------------------------------------------

_LIMITS_POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: limits
spec:
  containers:
  - name: app
    image: {LAB_IMAGE}
    imagePullPolicy: IfNotPresent
    command: {COMMAND}
    resources:
      limits:
        cpu: 500m
        memory: 64Mi
    env:
    - name: CPU_LIMIT_MILLICORES
      valueFrom:
        resourceFieldRef:
          resource: limits.cpu{{cpu_divisor}}
    - name: MEMORY_LIMIT_MIB
      valueFrom:
        resourceFieldRef:
          resource: limits.memory{{memory_divisor}}
"""

_DIVISOR = "\n          divisor: {}"


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
    starter=_LIMITS_POD.format(cpu_divisor="", memory_divisor=""),
    solution=_LIMITS_POD.format(cpu_divisor=_DIVISOR.format("1m"),
                                memory_divisor=_DIVISOR.format("1Mi")),
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


# -- Exercise 3: the pod's IP and node name ------------------------------------------------------

_WHERE_POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: whereami
spec:
  containers:
  - name: app
    image: {LAB_IMAGE}
    imagePullPolicy: IfNotPresent
    command: {COMMAND}
    env:
    - name: POD_IP
      valueFrom:
        fieldRef:
          fieldPath: {{ip_field}}
"""

_WHERE_STARTER = _WHERE_POD.format(ip_field="status.hostIP") + """\
    # TODO: NODE_NAME, the name of the node the pod runs on
"""

_WHERE_SOLUTION = _WHERE_POD.format(ip_field="status.podIP") + """\
    - name: NODE_NAME
      valueFrom:
        fieldRef:
          fieldPath: spec.nodeName
"""


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
    starter=_WHERE_STARTER,
    solution=_WHERE_SOLUTION,
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


# -- Exercise 4: owner-only files -----------------------------------------------------------------

_PRIVATE_POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: private
  labels:
    app: shop
    zone: us-east
  annotations:
    build: "42"
spec:
  containers:
  - name: app
    image: {LAB_IMAGE}
    imagePullPolicy: IfNotPresent
    command: {COMMAND}
    volumeMounts:
    - name: podinfo
      mountPath: /etc/podinfo
  volumes:
  - name: podinfo
    downwardAPI:{{default_mode}}
      items:
      - path: labels
        fieldRef:
          fieldPath: metadata.labels
      - path: annotations
        fieldRef:
          fieldPath: metadata.annotations
"""


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
    starter=_PRIVATE_POD.format(default_mode=""),
    solution=_PRIVATE_POD.format(default_mode="\n      defaultMode: 0400"),
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
