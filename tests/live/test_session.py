"""Live: a lab session owns a namespace of its own and always deletes it, however the session ends;
no session ever deletes another live session's namespace."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

import podlab
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from podlab.errors import PodlabError
from podlab.session import Lab, open_lab, sweep_labs
from podlab.conditions import deleted, ready
from podlab.waiting import wait_until
from shared_manifests import sleeper_pod

pytestmark = pytest.mark.live

SLEEPER = sleeper_pod("sleeper")  # default 30 s grace, and `sleep` as PID 1 ignores SIGTERM


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
            ns = namespace(live_cluster, lab.namespace)
            assert ns.metadata.labels["app.kubernetes.io/managed-by"] == "podlab"
            assert ns.metadata.labels["podlab.dev/lab"] == "t-body-raises"
            assert ns.metadata.labels["podlab.dev/session"] == lab.session
            assert lab.namespace == f"podlab-t-body-raises-{lab.session}"
            lab.apply(SLEEPER)
            raise RuntimeError("cell failed")
    assert namespace(live_cluster, lab.namespace) is None


def test_close_is_bounded_and_idempotent_even_with_sigterm_ignoring_pods(live_cluster):
    lab = open_lab("t-close")
    lab.apply(SLEEPER)
    lab.wait("sleeper", ready, timeout=60)
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
    killed_namespace = killed.stdout.splitlines()[-1]
    assert killed_namespace.startswith("podlab-t-killed-")
    wait_until(None, killed_namespace, deleted, kind="Namespace", timeout=60, api=live_cluster)


def test_the_same_lab_opened_again_in_one_process_replaces_the_earlier_session(live_cluster):
    earlier = open_lab("t-twice")  # as if a notebook's first cell ran again, the lab never closed
    earlier.apply(SLEEPER)
    with open_lab("t-twice") as fresh:
        assert fresh.namespace != earlier.namespace
        with pytest.raises(PodlabError, match="not found"):
            fresh.pod("sleeper")
        wait_until(None, earlier.namespace, deleted, kind="Namespace", timeout=60, api=live_cluster)
        earlier.close()  # already closed: quietly nothing to do
        assert namespace(live_cluster, fresh.namespace) is not None
    assert namespace(live_cluster, fresh.namespace) is None


OTHER_PROCESS = """
import sys, podlab
lab = podlab.open_lab("t-shared")        # prints its announce line
print(lab.namespace, flush=True)
lab.apply(sys.argv[1])
lab.wait("sleeper", podlab.ready, timeout=60)
print("ready", flush=True)
sys.stdin.readline()                      # hold the session until told to go on
lab.exec("sleeper", "true").check()       # still works: nobody deleted this session's namespace
print("still working", flush=True)
lab.close()
"""


def test_two_processes_on_one_lab_both_keep_working(live_cluster, tmp_path):
    manifest = tmp_path / "sleeper.yaml"
    manifest.write_text(SLEEPER)
    other = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS, str(manifest)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        announce, theirs = other.stdout.readline(), other.stdout.readline().strip()
        assert announce.startswith(f"lab t-shared: namespace {theirs} "), announce
        assert other.stdout.readline().strip() == "ready"
        with open_lab("t-shared") as mine:          # the same lab, opened while the other session runs
            assert mine.namespace != theirs
            assert namespace(live_cluster, theirs).status.phase == "Active"
            assert sweep_labs(["t-shared"]) == []   # podlab clean keeps both: their sessions run
            mine.apply(SLEEPER)
            mine.wait("sleeper", podlab.ready, timeout=60)
            other.stdin.write("go on\n")
            other.stdin.flush()
            assert other.stdout.readline().strip() == "still working"
            mine.exec("sleeper", "true").check()
        assert other.wait(timeout=60) == 0
    finally:
        other.kill()
        other.wait()
        assert other.returncode == 0, other.stderr.read()[-2000:]


def test_opening_a_lab_and_clean_remove_only_sessions_that_are_gone(live_cluster):
    script = ("import os, signal, podlab\n"
              "lab = podlab.open_lab('t-gone')\n"
              "lab._dismiss_reaper()  # as if the watcher had died too (a reboot): the namespace stays\n"
              "print(lab.namespace, flush=True)\n"
              "os.kill(os.getpid(), signal.SIGKILL)\n")
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    gone = killed.stdout.splitlines()[-1]
    assert namespace(live_cluster, gone) is not None
    with open_lab("t-gone-live") as live:
        assert sweep_labs(["t-gone", "t-gone-live"]) == [gone]   # the live session is kept
        assert namespace(live_cluster, live.namespace).status.phase == "Active"
    wait_until(None, gone, deleted, kind="Namespace", timeout=60, api=live_cluster)


def test_open_lab_says_which_cluster_it_connected_to(live_cluster, capsys):
    from podlab.connect import connection, server_version

    with open_lab("t-announce") as lab:
        pass
    chosen = connection()
    assert capsys.readouterr().out.splitlines()[0] == (
        f"lab t-announce: namespace {lab.namespace} on context {chosen.context} "
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
    assert namespace(live_cluster, lab.namespace) is None


def test_keep_namespaces_keeps_a_failed_labs_namespace_only(live_cluster, monkeypatch, capsys):
    monkeypatch.setenv("PODLAB_KEEP_NAMESPACES", "1")
    with open_lab("t-keep-ok") as ok:
        pass
    assert namespace(live_cluster, ok.namespace) is None  # no failure: deleted as always
    with pytest.raises(RuntimeError):
        with open_lab("t-keep") as lab:
            watcher = lab._reaper._process
            raise RuntimeError("cell failed")
    try:
        assert namespace(live_cluster, lab.namespace) is not None
        assert watcher.poll() == 0  # dismissed: it must not delete the kept namespace either
        err = capsys.readouterr().err
        assert f"kept namespace {lab.namespace} of the failed lab" in err and "`podlab clean`" in err
    finally:
        assert sweep_labs(["t-keep"]) == [lab.namespace]  # released: no session holds it
