"""Live: what a lab applies outside its namespace (cluster-scoped objects, a Namespace, an object held
by a podlab.dev/ finalizer) is removed with the lab, after a killed kernel too; a live session's
objects survive another session's sweep."""

from __future__ import annotations

import random
import signal
import string
import subprocess
import sys

import pytest
from kubernetes.client.exceptions import ApiException

from podlab._api import request_json
from podlab.conditions import deleted
from podlab.session import open_lab, sweep_labs
from podlab.waiting import wait_until
from shared_reads import present

pytestmark = pytest.mark.live


def owned_manifest(suffix: str) -> str:
    """A ClusterRole, a Namespace, and in it a ConfigMap that a podlab.dev/ finalizer holds."""
    return f"""
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: t-own-{suffix}}}
rules:
- {{apiGroups: [""], resources: [configmaps], verbs: [get]}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: t-own-{suffix}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: held, namespace: t-own-{suffix}, finalizers: [podlab.dev/hold]}}
data: {{a: b}}
"""


def paths(suffix: str) -> dict[str, str]:
    return {"clusterrole": f"/apis/rbac.authorization.k8s.io/v1/clusterroles/t-own-{suffix}",
            "namespace": f"/api/v1/namespaces/t-own-{suffix}",
            "configmap": f"/api/v1/namespaces/t-own-{suffix}/configmaps/held"}


def unique() -> str:
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(6))


def remove_by_hand(api, suffix: str) -> None:
    """What a failed test may leave: released and deleted without podlab's own code."""
    p = paths(suffix)
    for what, path in (("configmap", p["configmap"]), ("namespace", p["namespace"]),
                       ("clusterrole", p["clusterrole"])):
        try:
            if what == "configmap":
                request_json(api, "PATCH", path, body={"metadata": {"finalizers": None}},
                             content_type="application/merge-patch+json")
            request_json(api, "DELETE", path)
        except ApiException as e:
            if e.status not in (404, 409):
                raise


def wait_gone(api, suffix: str, timeout: float = 120) -> None:
    wait_until(None, f"t-own-{suffix}", deleted, kind="ClusterRole", api_version="rbac.authorization.k8s.io/v1",
               timeout=timeout, api=api)
    wait_until(None, f"t-own-{suffix}", deleted, kind="Namespace", timeout=timeout, api=api)


def test_close_removes_cluster_scoped_objects_and_releases_podlab_finalizers(live_cluster):
    suffix = unique()
    try:
        with open_lab("t-own-close") as lab:
            applied = lab.apply(owned_manifest(suffix))
            assert [o["kind"] for o in applied] == ["ClusterRole", "Namespace", "ConfigMap"]
            for obj in applied[:2]:  # cluster-scoped: labelled for this session
                assert {k: v for k, v in obj["metadata"]["labels"].items() if k != "kubernetes.io/metadata.name"} == {
                    "app.kubernetes.io/managed-by": "podlab", "podlab.dev/lab": "t-own-close",
                    "podlab.dev/session": lab.session}
            assert "labels" not in applied[2]["metadata"]  # its namespace takes it along
            assert applied[2]["metadata"]["finalizers"] == ["podlab.dev/hold"]
        for what, path in paths(suffix).items():
            assert present(live_cluster, path) is None, what
        assert present(live_cluster, f"/api/v1/namespaces/{lab.namespace}") is None
    finally:
        remove_by_hand(live_cluster, suffix)


def session_program(lab: str, *then: str) -> str:
    """A Python program that opens lab `lab`, applies the manifest file its first argument names, then runs `then`."""
    return "\n".join(["import os, signal, sys, podlab", f"lab = podlab.open_lab({lab!r})", "lab.apply(sys.argv[1])",
                      *then, ""])


KILLED = session_program("t-own-killed", "print(lab.namespace, flush=True)",
                         "os.kill(os.getpid(), signal.SIGKILL)  # as nbval does to its kernels: no atexit, no close")


def test_the_reaper_removes_them_after_a_killed_kernel(live_cluster):
    suffix = unique()
    try:
        killed = subprocess.run([sys.executable, "-c", KILLED, owned_manifest(suffix)], capture_output=True,
                                text=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        lab_namespace = killed.stdout.splitlines()[-1]
        wait_gone(live_cluster, suffix)
        wait_until(None, lab_namespace, deleted, kind="Namespace", timeout=60, api=live_cluster)
        assert present(live_cluster, paths(suffix)["configmap"]) is None
    finally:
        remove_by_hand(live_cluster, suffix)


HOLDING = session_program("t-own-live", "print(lab.session, flush=True)",
                          "sys.stdin.readline()  # hold the session until told to go on",
                          "lab.close()", 'print("closed", flush=True)')

GONE = session_program("t-own-gone", "lab._dismiss_reaper()  # as if the watcher had died too (a reboot): everything stays",
                       "print(lab.namespace, flush=True)", "os.kill(os.getpid(), signal.SIGKILL)")


def test_sweep_removes_a_gone_sessions_objects_and_keeps_a_live_sessions(live_cluster):
    live, gone = unique(), unique()
    holder = subprocess.Popen([sys.executable, "-c", HOLDING, owned_manifest(live)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        announce, session = holder.stdout.readline(), holder.stdout.readline().strip()
        assert announce.startswith("lab t-own-live: namespace podlab-t-own-live-"), announce
        assert session in announce
        killed = subprocess.run([sys.executable, "-c", GONE, owned_manifest(gone)], capture_output=True,
                                text=True, timeout=120)
        gone_namespace = killed.stdout.splitlines()[-1]
        assert present(live_cluster, paths(gone)["clusterrole"]) is not None  # nobody removed it yet

        swept = sweep_labs(["t-own-live", "t-own-gone"])

        assert swept == sorted([gone_namespace, f"t-own-{gone}"])
        for what, path in paths(gone).items():
            assert present(live_cluster, path) is None, what
        for what, path in paths(live).items():  # the live session's objects are all still there
            obj = present(live_cluster, path)
            assert obj is not None and "deletionTimestamp" not in obj["metadata"], what
        holder.stdin.write("go on\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "closed"
        assert holder.wait(timeout=60) == 0
        for what, path in paths(live).items():
            assert present(live_cluster, path) is None, what
    finally:
        holder.kill()
        holder.wait()
        remove_by_hand(live_cluster, live)
        remove_by_hand(live_cluster, gone)


EXITS = """
import sys, podlab
lab = podlab.open_lab("t-own-exit")
lab.apply(sys.argv[1])
print(lab.namespace, flush=True)
# no close: at exit the lab closes without waiting and hands the rest over to its reaper
"""


def test_a_close_that_does_not_wait_leaves_the_rest_to_the_reaper(live_cluster):
    suffix = unique()
    try:
        exited = subprocess.run([sys.executable, "-c", EXITS, owned_manifest(suffix)], capture_output=True,
                                text=True, timeout=120)
        assert exited.returncode == 0, exited.stderr
        lab_namespace = exited.stdout.splitlines()[-1]
        wait_gone(live_cluster, suffix)
        wait_until(None, lab_namespace, deleted, kind="Namespace", timeout=60, api=live_cluster)
    finally:
        remove_by_hand(live_cluster, suffix)
