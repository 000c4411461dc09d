"""Live: a static pod file that a killed kernel left in the kubelet's static pod directory is removed
by the reaper, and by the sweep of ended sessions (`podlab clean`) when the reaper died too, and the
kubelet drops its pod and mirror pod; a live session's file survives that sweep (issue 22)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from kubernetes.client.exceptions import ApiException

from podlab import LAB_IMAGE
from podlab._api import request_json
from podlab.conditions import deleted
from podlab.nodefiles import run_on_node
from podlab.session import sweep_labs
from podlab.staticpods import static_pod_path
from podlab.waiting import wait_until
from shared_reads import present

pytestmark = pytest.mark.live

STATIC = json.dumps({
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "leftover"},
    "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
             "containers": [{"name": "app", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                             "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]}]}})


def program(lab: str, *then: str) -> str:
    """A Python program that opens lab `lab`, writes STATIC (argv[1]) as a static pod on node argv[2],
    waits for its mirror pod, prints the session and the namespace, then runs `then`."""
    return "\n".join(["import os, signal, sys, podlab", "from podlab import staticpods",
                      f"lab = podlab.open_lab({lab!r})",
                      "mirror = staticpods.write(lab, sys.argv[1], node=sys.argv[2])",
                      "lab.wait(mirror, podlab.ready, timeout=120)",
                      "print(lab.session, lab.namespace, mirror, flush=True)", *then, ""])


KILLED = program("t-static-killed", "os.kill(os.getpid(), signal.SIGKILL)  # as nbval does: no atexit, no close")
GONE = program("t-static-gone", "lab._dismiss_reaper()  # as if the watcher had died too (a reboot)",
               "os.kill(os.getpid(), signal.SIGKILL)")
HOLDING = program("t-static-live", "sys.stdin.readline()  # hold the session until told to go on",
                  "lab.close()", 'print("closed", flush=True)')


@pytest.fixture
def node(live_cluster) -> str:
    """The one node with a kubelet (KWOK's fake nodes of other sessions have none)."""
    nodes = request_json(live_cluster, "GET", "/api/v1/nodes")["items"]
    real = [n["metadata"]["name"] for n in nodes
            if "kwok.x-k8s.io/node" not in (n["metadata"].get("annotations") or {})
            and not any(t["key"] == "podlab.dev/fake-node" for t in n["spec"].get("taints") or [])]
    assert len(real) == 1, real
    return real[0]


def files(lab, node: str) -> list[str]:
    """The podlab files in the node's static pod directory, listed by a throwaway pod in the test's lab."""
    directory = static_pod_path(lab, node)
    listing = run_on_node(lab.api, lab.namespace, node, directory, ["ls", "-a", directory],
                          failure="cannot list the static pod directory", hint="")
    return [name for name in listing.split() if name.startswith(("podlab-", ".podlab-"))]


def kubelet_namespaces(api, node: str) -> set[str]:
    """The namespaces of the pods the kubelet runs now, as its own /pods endpoint lists them (mirror pod or not)."""
    pods = request_json(api, "GET", f"/api/v1/nodes/{node}/proxy/pods")
    return {p["metadata"].get("namespace") for p in pods.get("items") or []}


def remove_by_hand(lab, node: str, sessions: list[str], namespaces: list[str]) -> None:
    """What a failed test may leave: the sessions' files and namespaces, removed without the code under test."""
    directory = static_pod_path(lab, node)
    names = [f for f in files(lab, node) if any(f.lstrip(".").startswith(f"podlab-{s}-") for s in sessions if s)]
    if names:
        run_on_node(lab.api, lab.namespace, node, directory, ["rm", "-f", *[f"{directory}/{n}" for n in names]],
                    failure="cannot remove the test's static pod files", hint="")
    for namespace in namespaces:
        try:
            request_json(lab.api, "DELETE", f"/api/v1/namespaces/{namespace}")
        except ApiException as e:
            if e.status not in (404, 409):
                raise


def test_the_reaper_removes_a_killed_kernels_static_pod_file(live_cluster, lab, node):
    session = namespace = ""
    try:
        killed = subprocess.run([sys.executable, "-c", KILLED, STATIC, node], capture_output=True, text=True,
                                timeout=240)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        session, namespace, mirror = killed.stdout.splitlines()[-1].split()
        # the reaper removes the file, waits for the mirror pod to go, then deletes the namespace
        wait_until(None, namespace, deleted, kind="Namespace", timeout=240, api=live_cluster)
        assert f"podlab-{session}-leftover.json" not in files(lab, node)
        assert namespace not in kubelet_namespaces(live_cluster, node)  # the kubelet no longer runs it
    finally:
        remove_by_hand(lab, node, [session], [namespace] if namespace else [])


def test_the_sweep_removes_a_gone_sessions_static_pod_file_and_keeps_a_live_sessions(live_cluster, lab, node):
    holder = subprocess.Popen([sys.executable, "-c", HOLDING, STATIC, node], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    live_session = live_namespace = gone_session = gone_namespace = ""
    try:
        announce = holder.stdout.readline()
        assert announce.startswith("lab t-static-live: namespace podlab-t-static-live-"), announce
        live_session, live_namespace, live_mirror = holder.stdout.readline().split()
        killed = subprocess.run([sys.executable, "-c", GONE, STATIC, node], capture_output=True, text=True,
                                timeout=240)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        gone_session, gone_namespace, gone_mirror = killed.stdout.splitlines()[-1].split()
        before = files(lab, node)
        assert f"podlab-{gone_session}-leftover.json" in before  # nobody removed it yet
        assert f"podlab-{live_session}-leftover.json" in before
        live_before = present(live_cluster, f"/api/v1/namespaces/{live_namespace}/pods/{live_mirror}")

        swept = sweep_labs(["t-static-live", "t-static-gone"])  # what `podlab clean` runs

        assert swept == [gone_namespace]
        after = files(lab, node)
        assert f"podlab-{gone_session}-leftover.json" not in after
        assert present(live_cluster, f"/api/v1/namespaces/{gone_namespace}/pods/{gone_mirror}") is None
        assert gone_namespace not in kubelet_namespaces(live_cluster, node)  # the kubelet no longer runs it
        # the live session's file, pod and mirror pod are untouched
        assert f"podlab-{live_session}-leftover.json" in after
        assert live_namespace in kubelet_namespaces(live_cluster, node)
        live_after = present(live_cluster, f"/api/v1/namespaces/{live_namespace}/pods/{live_mirror}")
        assert live_after is not None and "deletionTimestamp" not in live_after["metadata"]
        assert live_after["metadata"]["uid"] == live_before["metadata"]["uid"]

        holder.stdin.write("go on\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "closed"
        assert holder.wait(timeout=120) == 0
        assert f"podlab-{live_session}-leftover.json" not in files(lab, node)  # its own close removed it
    finally:
        holder.kill()
        holder.wait()
        remove_by_hand(lab, node, [live_session, gone_session], [ns for ns in (live_namespace, gone_namespace) if ns])
