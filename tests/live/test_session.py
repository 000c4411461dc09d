"""Live: a lab owns a fresh namespace and always deletes it, however the session ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from podlab.errors import PodlabError
from podlab.images import LAB_IMAGE
from podlab.session import Lab, open_lab, sweep_labs
from podlab.waiting import wait_for_deletion

pytestmark = pytest.mark.live

SLEEPER = f"""
apiVersion: v1
kind: Pod
metadata: {{name: sleeper}}
spec:
  containers:
  - {{name: app, image: "{LAB_IMAGE}", imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}}
"""  # default 30 s grace, and `sleep` as PID 1 ignores SIGTERM: the worst case for cleanup


def namespace(api, name: str) -> client.V1Namespace | None:
    try:
        return client.CoreV1Api(api).read_namespace(name)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def test_namespace_is_labelled_and_deleted_even_when_the_body_raises(live_cluster):
    with pytest.raises(RuntimeError, match="cell failed"):
        with open_lab("t-body-raises") as lab:
            ns = namespace(live_cluster, "podlab-t-body-raises")
            assert ns.metadata.labels["app.kubernetes.io/managed-by"] == "podlab"
            assert ns.metadata.labels["podlab.dev/lab"] == "t-body-raises"
            lab.apply(SLEEPER)
            raise RuntimeError("cell failed")
    assert namespace(live_cluster, "podlab-t-body-raises") is None


def test_close_is_bounded_and_idempotent_even_with_sigterm_ignoring_pods(live_cluster):
    lab = open_lab("t-close")
    lab.apply(SLEEPER)
    lab.wait_for_ready("sleeper", timeout=60)
    watcher = lab._reaper._process
    started = time.monotonic()
    lab.close()
    assert time.monotonic() - started < 20  # not the pod's 30 s grace period
    assert namespace(live_cluster, lab.namespace) is None
    assert watcher.poll() == 0  # the watcher was dismissed, not left behind
    lab.close()


def test_namespace_is_deleted_even_when_the_process_is_killed(live_cluster):
    script = ("import os, signal, podlab\n"
              "lab = podlab.open_lab('t-killed')\n"
              "print(lab.namespace, flush=True)\n"
              "os.kill(os.getpid(), signal.SIGKILL)  # as nbval does to its kernels: no atexit\n")
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert killed.stdout.splitlines()[-1] == "podlab-t-killed"
    wait_for_deletion(None, "podlab-t-killed", kind="Namespace", timeout=60, api=live_cluster)


def test_same_lab_twice_in_a_row_and_over_a_leftover(live_cluster):
    for _ in range(2):
        with open_lab("t-twice") as lab:
            lab.apply(SLEEPER)
            lab.wait_for_ready("sleeper", timeout=60)
    leftover = open_lab("t-twice")  # as if the kernel had been killed: never closed
    leftover.apply(SLEEPER)
    old_uid = namespace(live_cluster, "podlab-t-twice").metadata.uid
    with open_lab("t-twice") as fresh:
        assert namespace(live_cluster, fresh.namespace).metadata.uid != old_uid
        with pytest.raises(PodlabError, match="not found"):
            fresh.pod("sleeper")
        leftover.close()  # superseded: must not delete the fresh namespace
        assert namespace(live_cluster, fresh.namespace) is not None
    assert namespace(live_cluster, "podlab-t-twice") is None


def test_sweep_deletes_lab_namespaces(live_cluster):
    first, second = Lab("t-sweep-a").open(), Lab("t-sweep-b").open()
    first.apply(SLEEPER)
    assert sweep_labs(["t-sweep-a", "t-sweep-b"]) == ["podlab-t-sweep-a", "podlab-t-sweep-b"]
    assert namespace(live_cluster, first.namespace) is None
    assert namespace(live_cluster, second.namespace) is None
    assert sweep_labs(["t-sweep-a", "t-sweep-b"]) == []
    first.close(), second.close()  # already gone: quietly nothing to do


def test_open_lab_says_which_cluster_it_connected_to(live_cluster, capsys):
    from podlab.connect import connection, server_version

    with open_lab("t-announce") as lab:
        pass
    chosen = connection()
    assert capsys.readouterr().out.splitlines()[0] == (
        f"lab t-announce: namespace podlab-t-announce on context {chosen.context} "
        f"({chosen.provider} provider), Kubernetes {server_version(live_cluster)}")
    assert lab.server_version.startswith("v1.37.")


def test_deferred_undos_run_last_first_even_when_the_lab_fails(live_cluster):
    undone = []
    with pytest.raises(RuntimeError, match="cell failed"):
        with open_lab("t-defer") as lab:
            lab.defer(lambda: undone.append("first"))
            lab.defer(lambda: undone.append("second"))
            raise RuntimeError("cell failed")
    assert undone == ["second", "first"]
    assert namespace(live_cluster, "podlab-t-defer") is None


def test_keep_namespaces_keeps_a_failed_labs_namespace_only(live_cluster, monkeypatch, capsys):
    monkeypatch.setenv("PODLAB_KEEP_NAMESPACES", "1")
    with open_lab("t-keep-ok"):
        pass
    assert namespace(live_cluster, "podlab-t-keep-ok") is None  # no failure: deleted as always
    with pytest.raises(RuntimeError):
        with open_lab("t-keep") as lab:
            watcher = lab._reaper._process
            raise RuntimeError("cell failed")
    try:
        assert namespace(live_cluster, "podlab-t-keep") is not None
        assert watcher.poll() == 0  # dismissed: it must not delete the kept namespace either
        err = capsys.readouterr().err
        assert "kept namespace podlab-t-keep of the failed lab" in err and "`podlab clean`" in err
    finally:
        assert sweep_labs(["t-keep"]) == ["podlab-t-keep"]
