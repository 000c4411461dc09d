"""`podlab up` starts a stopped kind node again; `podlab down` on kind leaves no kind container,
network or volume behind.

Runs only when a kind cluster is the target and the caller says it may be taken down
(PODLAB_KIND_DOWN_TEST=1, set by `python -m podlab.cluster.kindci` as its last step): it
deletes the cluster. On podlab's own Docker engine it also checks that the host sysctls the
node's systemd changed are back to what they were before the node started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import podlab
from podlab import cluster
from podlab.cluster import dockerd
from podlab.cluster.kind import CLUSTER, KindProvider

pytestmark = [pytest.mark.live, pytest.mark.skipif(
    os.environ.get("PODLAB_KIND_DOWN_TEST") != "1",
    reason="takes the kind cluster down: only as the last step of a kind run (PODLAB_KIND_DOWN_TEST=1)")]


def docker_lines(*args: str) -> list[str]:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=True)
    return [line for line in done.stdout.splitlines() if line.strip()]


def test_a_stopped_node_starts_again_with_podlab_up():
    """After a reboot or an engine restart the node container is stopped; `podlab up` starts it."""
    node = f"{CLUSTER}-control-plane"
    subprocess.run(["docker", "stop", node], capture_output=True, text=True, check=True)
    assert docker_lines("inspect", "--format", "{{.State.Status}}", node) == ["exited"]
    done = subprocess.run([sys.executable, "-m", "podlab.cli", "up", "--provider", "kind"], capture_output=True,
                          text=True, timeout=600)
    print(done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"✓ starting the stopped node container {node} (it was exited)" in done.stderr + done.stdout
    assert docker_lines("inspect", "--format", "{{.State.Status}}", node) == ["running"]
    with podlab.open_lab("kindrestart") as lab:
        [ready] = [c for c in lab.get("Node", node)["status"]["conditions"] if c["type"] == "Ready"]
        assert ready["status"] == "True", ready


def test_down_leaves_no_kind_container_network_or_volume():
    assert CLUSTER in KindProvider().clusters(), "no kind cluster 'podlab' to take down"
    node = f"{CLUSTER}-control-plane"
    inspected = json.loads(subprocess.run(["docker", "inspect", node], capture_output=True, text=True,
                                          check=True).stdout)[0]
    node_volumes = [m["Name"] for m in inspected["Mounts"] if m["Type"] == "volume"]
    print("node volumes:", node_volumes)
    assert node_volumes, "a kind node has an anonymous volume for /var"

    assert cluster.down("kind") == "kind"

    assert docker_lines("ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={CLUSTER}", "--format", "{{.Names}}") == []
    assert docker_lines("network", "ls", "--filter", "name=^kind$", "--format", "{{.Name}}") == []
    left = set(docker_lines("volume", "ls", "--format", "{{.Name}}"))
    assert left.isdisjoint(node_volumes)
    assert KindProvider().status() == f"kind: no cluster '{CLUSTER}'"


@pytest.mark.skipif(not dockerd.HOST_RECORD.exists(), reason="not on podlab's own Docker engine")
def test_host_sysctls_are_back_after_the_node_is_gone():
    record = json.loads(dockerd.HOST_RECORD.read_text())["sysctls"]
    changed = dockerd.restore_host()
    print("changed by the node, restored:", changed)
    assert {name: dockerd.read_sysctl(name) for name in record} == record
