"""The kind provider as a reader meets it, on a live kind cluster (issue 18's acceptance items).

Runs only inside a kind run (PODLAB_KIND_RUN=1, set by `python -m podlab.cluster.kindci`, the
kind part of `make test`), where a Docker engine answers, kind is on PATH and the podlab kind
cluster is up: `podlab doctor` reports kind usable, and without kind on PATH says what to
install; a lab opened on kind names Kubernetes v1.37 and the node runs containerd 2.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client

import podlab
from podlab.connect import connect
from podlab.cluster.kind import CONTEXT

pytestmark = [pytest.mark.live, pytest.mark.skipif(
    os.environ.get("PODLAB_KIND_RUN") != "1",
    reason="needs the kind run's engine and cluster (PODLAB_KIND_RUN=1, set by podlab.cluster.kindci)")]


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "podlab.cli", "doctor"], capture_output=True, text=True,
                          env=env, timeout=120)


def test_doctor_reports_kind_usable_with_docker():
    done = doctor(dict(os.environ))
    print(done.stdout)
    lines = done.stdout.splitlines()
    assert "✓ kind" in lines, done.stdout + done.stderr
    kind_block = lines[lines.index("✓ kind") + 1:]
    assert any(line.strip().startswith("note: Docker engine ") for line in kind_block[:3]), done.stdout
    assert done.returncode == 0


def test_doctor_without_kind_says_what_to_install():
    kind = shutil.which("kind")
    assert kind, "kind is on PATH in a kind run"
    kind_dir = str(Path(kind).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p and p != kind_dir)
    assert shutil.which("kind", path=path) is None, f"another kind on PATH: {shutil.which('kind', path=path)}"
    assert shutil.which("docker", path=path), "docker stays on PATH"
    done = doctor({**os.environ, "PATH": path})
    print(done.stdout)
    lines = done.stdout.splitlines()
    assert "✗ kind" in lines, done.stdout + done.stderr
    missing = lines[lines.index("✗ kind") + 1].strip()
    assert missing.startswith("missing: kind is not on PATH (install kind v0.33.0: "
                              "`go install sigs.k8s.io/kind@v0.33.0`"), missing
    assert "https://kind.sigs.k8s.io/dl/v0.33.0/kind-linux-amd64" in missing


def test_a_lab_on_kind_names_kubernetes_1_37_and_the_node_runs_containerd_2(capsys):
    with podlab.open_lab("kindcheck") as lab:
        announced = capsys.readouterr().out
        assert lab.connection.provider == "kind" and lab.connection.context == CONTEXT, lab.connection
    with capsys.disabled():
        print(announced.strip())
    assert f"on context {CONTEXT} (kind provider), Kubernetes v1.37." in announced, announced
    nodes = client.CoreV1Api(connect()).list_node().items
    assert len(nodes) == 1
    info = nodes[0].status.node_info
    print(f"node {nodes[0].metadata.name}: kubelet {info.kubelet_version}, runtime {info.container_runtime_version}")
    assert info.kubelet_version.startswith("v1.37."), info.kubelet_version
    assert info.container_runtime_version.startswith("containerd://2."), info.container_runtime_version
