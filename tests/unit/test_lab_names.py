"""A lab's name becomes its namespace, so it must be a short DNS label."""

from __future__ import annotations

import pytest

from podlab.errors import PodlabError
from podlab.session import Lab


@pytest.mark.parametrize("name", ["Bad_Name", "-dash", "x" * 57, ""])
def test_invalid_names_are_refused_before_touching_the_cluster(name):
    with pytest.raises(PodlabError, match="cannot name a lab"):
        Lab(name)


def test_each_session_has_its_own_namespace_and_nbval_masks_the_session(monkeypatch):
    import configparser
    import re
    from pathlib import Path

    from podlab import session
    from podlab.connect import Connection

    monkeypatch.setattr(session, "connection", lambda kubeconfig: Connection("local", "podlab", None, "test"))
    monkeypatch.setattr(session, "connect", lambda kubeconfig: None)
    first, second = session.Lab("pod-basics"), session.Lab("pod-basics")
    assert first.namespace != second.namespace
    assert re.fullmatch(r"podlab-pod-basics-[bcdfghjklmnpqrstvwxz2456789]{5}", first.namespace)
    config = configparser.ConfigParser()
    config.read(Path(__file__).resolve().parents[1] / "nbval-sanitize.cfg")
    section = config["lab-namespace"]
    for text, masked in ((f"-n {first.namespace} -f x.yaml", "-n podlab-pod-basics-<session> -f x.yaml"),
                         (f"web.{second.namespace}.svc.cluster.local", "web.podlab-pod-basics-<session>.svc.cluster.local"),
                         ("node podlab-control-plane", "node podlab-control-plane")):  # a node, not a session
        assert re.sub(section["regex"], section["replace"], text) == masked


def test_a_holder_is_alive_while_its_process_runs_here():
    import os
    import subprocess
    import sys

    from podlab.session import _holder, holder_alive

    assert holder_alive(_holder()) is True
    ended = subprocess.run([sys.executable, "-c", "from podlab.session import _holder; print(_holder())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert holder_alive(ended) is False                # that process has exited
    host, pid, started = _holder().split()
    assert holder_alive(f"{host} {pid} 1") is False    # same pid, another process (pid reused)
    assert holder_alive(f"elsewhere.example {pid} {started}") is None  # another machine: unknown
    assert holder_alive("") is False                   # no holder: a namespace of an older podlab
    assert os.getpid() == int(pid)
