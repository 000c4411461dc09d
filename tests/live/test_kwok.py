"""Live: the KWOK add-on makes a session's fake node act as a node, for that session's pods only.

A fake node turns Ready under KWOK with the sizes its manifest gives; a pod that tolerates its
taint and selects it is bound there and reported Running by KWOK; a pod that does not tolerate
it is never bound; KWOK renews the node's Lease (its heartbeat); closing the lab removes the node, and so
does the reaper after the session's process is killed.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

import podlab
from podlab import fakenodes
from podlab._api import request_json
from podlab.cluster import kwok
from podlab.conditions import deleted, satisfies
from podlab.session import open_lab
from podlab.waiting import wait_until

pytestmark = pytest.mark.live

BOOK = Path(__file__).resolve().parents[2] / "book" / "07-nodes-and-scheduling"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
NODE_MONITOR_PERIOD = 5  # kube-controller-manager's --node-monitor-period default (not set by kubeadm or kind)


@pytest.fixture(scope="module")
def kwok_controller(live_cluster):
    """The KWOK add-on, installed (or found) once for these tests."""
    return kwok.ensure(live_cluster)


def renew_time(lease) -> datetime:
    return datetime.fromisoformat(lease["spec"]["renewTime"].replace("Z", "+00:00"))


def test_ensure_is_idempotent_and_reports_the_controller(live_cluster, kwok_controller):
    assert kwok_controller.startswith(f"KWOK {kwok.VERSION}: controller available in kube-system")
    assert kwok.ensure(live_cluster).startswith(f"KWOK {kwok.VERSION}: controller available")
    deployment = request_json(live_cluster, "GET", "/apis/apps/v1/namespaces/kube-system/deployments/kwok-controller")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == kwok.IMAGE
    stages = request_json(live_cluster, "GET", "/apis/kwok.x-k8s.io/v1alpha1/stages")
    assert {s["metadata"]["name"] for s in stages["items"]} >= {
        "node-initialize", "node-heartbeat-with-lease", "pod-ready", "pod-complete", "pod-delete"}


def test_fake_node_serves_only_its_session_and_goes_with_the_lab(live_cluster, kwok_controller):
    lab = open_lab("t-kwok")
    node_name = f"kwok-small-{lab.session}"
    try:
        [node] = fakenodes.add(lab, BOOK / "fake-node-small.yaml")
        assert node["metadata"]["name"] == node_name
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == node_name
        assert {"key": "podlab.dev/fake-node", "value": lab.session, "effect": "NoSchedule"} in node["spec"]["taints"]
        assert node["status"]["allocatable"] == {"cpu": "2", "memory": "4Gi", "pods": "10"}
        assert node["status"]["capacity"] == {"cpu": "2", "memory": "4Gi", "pods": "10"}

        lab.apply(fakenodes.for_session(lab, BOOK / "on-small-node.yaml"))
        pod = lab.wait("on-small-node", podlab.ready)
        assert pod["spec"]["nodeName"] == node_name
        assert pod["status"]["phase"] == "Running"

        lab.apply(BOOK / "untolerated.yaml")
        pending = lab.wait("untolerated", podlab.unschedulable)
        assert not pending["spec"].get("nodeName")
        message = next(c["message"] for c in pending["status"]["conditions"] if c["type"] == "PodScheduled")
        assert re.search(r"\b[1-9][0-9]* node\(s\) had untolerated taint\(s\)", message), message
        on_node = request_json(live_cluster, "GET", "/api/v1/pods", query=[("fieldSelector", f"spec.nodeName={node_name}")])
        assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in on_node["items"]] == [
            (lab.namespace, "on-small-node")], "only the session's pod is on its fake node (no DaemonSet pod)"

        first = request_json(live_cluster, "GET", f"{LEASES}/{node_name}")
        assert first["spec"]["holderIdentity"], first["spec"]
        renewed = wait_until("kube-node-lease", node_name,
                             satisfies(lambda l: renew_time(l) > renew_time(first), "renewed after the first read"),
                             kind="Lease", api_version="coordination.k8s.io/v1", timeout=60, api=live_cluster)
        assert renewed["spec"]["holderIdentity"] == first["spec"]["holderIdentity"]
        lab.wait("untolerated", podlab.unschedulable)  # still not bound, a renewal later
    finally:
        lab.close()
    wait_until(None, node_name, deleted, kind="Node", timeout=60, api=live_cluster)


def test_a_killed_sessions_fake_node_and_its_pod_are_removed(live_cluster, kwok_controller):
    script = ("import os, signal, sys, podlab\n"
              "from podlab import fakenodes\n"
              "lab = podlab.open_lab('t-kwok-killed')\n"
              "[node] = fakenodes.add(lab, sys.argv[1])\n"
              "lab.apply(fakenodes.for_session(lab, sys.argv[2]))\n"
              "lab.wait('on-small-node', podlab.ready)\n"
              "print(node['metadata']['name'], lab.namespace, flush=True)\n"
              "os.kill(os.getpid(), signal.SIGKILL)  # as nbval does to its kernels: no atexit\n")
    killed = subprocess.run([sys.executable, "-c", script, str(BOOK / "fake-node-small.yaml"),
                             str(BOOK / "on-small-node.yaml")], capture_output=True, text=True, timeout=180)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    node_name, namespace = killed.stdout.splitlines()[-1].split()
    assert node_name.startswith("kwok-small-")
    wait_until(None, node_name, deleted, kind="Node", timeout=90, api=live_cluster)
    wait_until(None, namespace, deleted, kind="Namespace", timeout=90, api=live_cluster)


def node_ready_status(node) -> str:
    return next(c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready")


def test_a_silenced_fake_node_turns_unknown_and_revives(live_cluster, kwok_controller):
    with open_lab("t-kwok-silent") as lab:
        [node] = fakenodes.add(lab, BOOK / "fake-node-small.yaml")
        name = node["metadata"]["name"]
        # Silence the node where a takeover that did not renew would leave it Ready for good: after
        # the node lifecycle controller (checking every 5 s) has seen KWOK's latest renewal.
        first = request_json(live_cluster, "GET", f"{LEASES}/{name}")
        wait_until("kube-node-lease", name, satisfies(lambda l: renew_time(l) > renew_time(first), "renewed"),
                   kind="Lease", api_version="coordination.k8s.io/v1", timeout=30, api=live_cluster)
        time.sleep(NODE_MONITOR_PERIOD + 1)
        taken = fakenodes.silence(lab, name)
        assert taken["spec"]["holderIdentity"] == fakenodes.SILENCED_BY
        unknown = satisfies(lambda n: node_ready_status(n) == "Unknown", "Ready=Unknown")
        lab.wait(name, unknown, kind="Node", timeout=120)       # the grace period is 50 s by default
        lease = request_json(live_cluster, "GET", f"{LEASES}/{name}")
        assert lease["spec"]["renewTime"] == taken["spec"]["renewTime"], "nothing renewed the silenced Lease"
        tainted = satisfies(lambda n: {("node.kubernetes.io/unreachable", "NoExecute")} <= {
            (t["key"], t["effect"]) for t in n["spec"].get("taints") or []}, "tainted unreachable:NoExecute")
        lab.wait(name, tainted, kind="Node", timeout=30)
        fakenodes.revive(lab, name)
        lab.wait(name, fakenodes.node_ready, kind="Node", timeout=60)
        renewed = request_json(live_cluster, "GET", f"{LEASES}/{name}")
        assert renewed["spec"]["holderIdentity"] != fakenodes.SILENCED_BY
    wait_until(None, name, deleted, kind="Node", timeout=60, api=live_cluster)
