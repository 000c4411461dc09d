"""The kind provider, driven against fake `kind` and `docker` executables on PATH."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from podlab.cluster import kind
from podlab.cluster.kind import KindProvider, render_config, run
from podlab.errors import PodlabError, ProviderUnavailable
from podlab.images import AGNHOST_IMAGE, LAB_IMAGE, NODE_SHARE_DIR

# A fake tool logs [tool, *argv] to $FAKE_LOG, then answers from env vars named after its
# subcommand words: `kind get clusters` reads FAKE_KIND_GET_CLUSTERS_{OUT,ERR,EXIT}.
FAKE = f"""#!{sys.executable}
import json, os, re, sys
tool = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([tool, *sys.argv[1:]]) + "\\n")
words = []
for arg in sys.argv[1:3]:
    if not re.fullmatch(r"[a-z][a-z-]*", arg):
        break
    words.append(arg)
key = "_".join(["FAKE", tool, *words]).upper().replace("-", "_")
sys.stdout.write(os.environ.get(key + "_OUT", ""))
sys.stderr.write(os.environ.get(key + "_ERR", ""))
sys.exit(int(os.environ.get(key + "_EXIT", "0")))
"""

ENGINE_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"


class Fakes:
    """Fake tools in a PATH of their own, with their answers and a log of their calls."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "calls.log"
        self.log.touch()
        self.mp = monkeypatch
        monkeypatch.setenv("PATH", str(self.bin))
        monkeypatch.setenv("FAKE_LOG", str(self.log))

    def install(self, *tools: str) -> None:
        for tool in tools:
            path = self.bin / tool
            path.write_text(FAKE)
            path.chmod(0o755)

    def answer(self, command: str, *, out: str = "", err: str = "", exit: int = 0) -> None:
        """Set what e.g. answer("kind get clusters", out="podlab\\n") prints and returns."""
        key = "FAKE_" + command.upper().replace(" ", "_").replace("-", "_")
        self.mp.setenv(key + "_OUT", out)
        self.mp.setenv(key + "_ERR", err)
        self.mp.setenv(key + "_EXIT", str(exit))

    def calls(self, tool: str | None = None) -> list[list[str]]:
        lines = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [call for call in lines if tool is None or call[0] == tool]


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    monkeypatch.setenv("PODLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PODLAB_KUBECONFIG", str(tmp_path / "kube" / "podlab.config"))
    f = Fakes(tmp_path, monkeypatch)
    f.install("kind", "docker")
    f.answer("kind version", out="kind v0.33.0 go1.25.1 linux/amd64\n")
    f.answer("docker info", out="28.2.2\n")
    f.answer("docker image inspect", err=f"Error: No such image: {LAB_IMAGE}\n", exit=1)
    return f


def kubeconfig(tmp_path: Path) -> str:
    return str(tmp_path / "kube" / "podlab.config")


# --- check -----------------------------------------------------------------------------

def test_check_ready_with_kind_and_engine(fakes):
    ready = KindProvider().check()
    assert ready.usable and ready.missing == ()
    assert fakes.calls("docker") == [["docker", "info", "--format", "{{.ServerVersion}}"]]


def test_check_reports_docker_without_engine(fakes):
    fakes.answer("docker info", err=ENGINE_DOWN, exit=1)
    ready = KindProvider().check()
    assert not ready.usable
    assert ready.missing == ("docker CLI found but no Docker engine answers (docker info failed: "
                             "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                             "Is the docker daemon running?)",)


def test_check_reports_kind_missing(fakes):
    (fakes.bin / "kind").unlink()
    ready = KindProvider().check()
    assert not ready.usable
    assert len(ready.missing) == 1 and ready.missing[0].startswith("kind is not on PATH")
    assert "kind.sigs.k8s.io" in ready.missing[0]


def test_check_reports_docker_missing(fakes):
    (fakes.bin / "docker").unlink()
    ready = KindProvider().check()
    assert not ready.usable and ready.missing[0].startswith("docker is not on PATH")


def test_check_warns_about_old_kind(fakes):
    fakes.answer("kind version", out="kind v0.29.0 go1.24.2 linux/amd64\n")
    ready = KindProvider().check()
    assert ready.usable and any("v0.29.0 is older than v0.33.0" in n for n in ready.notes)


# --- up --------------------------------------------------------------------------------

def test_up_creates_cluster_when_absent(fakes, tmp_path):
    fakes.answer("kind get clusters", err="No kind clusters found.\n")
    info = KindProvider().up()
    config = tmp_path / "cache" / "kind" / "kind-config.yaml"
    assert fakes.calls("kind") == [
        ["kind", "version"],
        ["kind", "get", "clusters"],
        ["kind", "create", "cluster", "--name", "podlab", "--config", str(config),
         "--kubeconfig", kubeconfig(tmp_path), "--wait", "180s"],
        ["kind", "export", "kubeconfig", "--name", "podlab", "--kubeconfig", kubeconfig(tmp_path)],
    ]
    share = tmp_path / "cache" / "kind-share"
    assert share.is_dir()
    node = yaml.safe_load(config.read_text())["nodes"][0]
    assert node["extraMounts"] == [{"hostPath": str(share), "containerPath": NODE_SHARE_DIR}]
    assert (info.provider, info.context, str(info.kubeconfig)) == ("kind", "kind-podlab", kubeconfig(tmp_path))
    assert info.share_host_dir == share


def test_up_reuses_existing_cluster(fakes, tmp_path):
    fakes.answer("kind get clusters", out="other\npodlab\n")
    KindProvider().up()
    assert not any(call[1] == "create" for call in fakes.calls("kind"))
    assert fakes.calls("kind")[-1] == ["kind", "export", "kubeconfig", "--name", "podlab",
                                       "--kubeconfig", kubeconfig(tmp_path)]


def test_up_does_not_reuse_a_cluster_with_a_longer_name(fakes):
    fakes.answer("kind get clusters", out="podlab-old\n")
    KindProvider().up()
    assert any(call[1] == "create" for call in fakes.calls("kind"))


def test_up_loads_nothing_when_no_image_is_local(fakes):
    fakes.answer("kind get clusters", out="podlab\n")
    KindProvider().up()
    assert ["docker", "image", "inspect", LAB_IMAGE] in fakes.calls("docker")
    assert not any(call[1] == "load" for call in fakes.calls("kind"))


def test_up_loads_image_from_docker_when_present(fakes):
    fakes.answer("kind get clusters", out="podlab\n")
    fakes.answer("docker image inspect", out="[{}]\n")
    KindProvider().up()
    loads = [call for call in fakes.calls("kind") if call[1] == "load"]
    assert loads == [["kind", "load", "docker-image", LAB_IMAGE, "--name", "podlab"]]


def test_up_loads_oci_archive_when_cached(fakes, tmp_path):
    fakes.answer("kind get clusters", out="podlab\n")
    archive = tmp_path / "cache" / "images" / "lab.tar"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"not really a tar")
    KindProvider().up()
    loads = [call for call in fakes.calls("kind") if call[1] == "load"]
    assert loads == [["kind", "load", "image-archive", str(archive), "--name", "podlab"]]


def test_up_without_engine_is_unavailable_and_runs_no_kind(fakes):
    fakes.answer("docker info", err=ENGINE_DOWN, exit=1)
    with pytest.raises(ProviderUnavailable) as unavailable:
        KindProvider().up()
    assert "no Docker engine answers" in unavailable.value.message
    assert "--provider local" in unavailable.value.hint
    assert fakes.calls("kind") == [["kind", "version"]]


def test_up_without_kind_is_unavailable(fakes):
    (fakes.bin / "kind").unlink()
    with pytest.raises(ProviderUnavailable, match="kind is not on PATH"):
        KindProvider().up()


def test_failed_create_shows_command_and_stderr_tail(fakes, tmp_path):
    fakes.answer("kind get clusters", err="No kind clusters found.\n")
    noise = "".join(f"early line {i}\n" for i in range(30))
    fakes.answer("kind create cluster", exit=1,
                 err=noise + "ERROR: failed to create cluster: could not pull image kindest/node\n")
    with pytest.raises(PodlabError) as failed:
        KindProvider().up()
    message = failed.value.message
    assert "`kind create cluster --name podlab --config" in message and "exit code 1" in message
    assert "could not pull image kindest/node" in message
    assert "early line 29" in message and "early line 0\n" not in message  # the tail only
    log = tmp_path / "cache" / "kind" / "create.log"
    assert str(log) in failed.value.hint and "could not pull" in log.read_text()
    assert "podlab up --provider kind" in failed.value.hint
    assert not any(call[1] == "export" for call in fakes.calls("kind"))


def test_failed_listing_says_to_check_docker(fakes):
    fakes.answer("kind get clusters", err="ERROR: failed to list clusters\n", exit=1)
    with pytest.raises(PodlabError) as failed:
        KindProvider().up()
    assert "`kind get clusters` failed" in failed.value.message and "docker info" in failed.value.hint


# --- down and status -------------------------------------------------------------------

def test_down_deletes_the_cluster(fakes, tmp_path):
    fakes.answer("kind get clusters", out="podlab\n")
    KindProvider().down()
    assert fakes.calls("kind")[-1] == ["kind", "delete", "cluster", "--name", "podlab",
                                       "--kubeconfig", kubeconfig(tmp_path)]
    assert ["docker", "exec", "podlab-control-plane", "find", NODE_SHARE_DIR,
            "-mindepth", "1", "-delete"] in fakes.calls("docker")


def test_down_without_cluster_deletes_nothing(fakes):
    KindProvider().down()
    assert fakes.calls("kind") == [["kind", "get", "clusters"]]


def test_status(fakes):
    assert KindProvider().status() == "kind: no cluster 'podlab'"
    fakes.answer("kind get clusters", out="podlab\n")
    assert KindProvider().status().startswith("kind: cluster 'podlab' exists (context kind-podlab")
    fakes.answer("kind get clusters", err="ERROR: boom\n", exit=1)
    assert KindProvider().status() == "kind: cannot list clusters (ERROR: boom)"
    (fakes.bin / "kind").unlink()
    assert KindProvider().status() == "kind: not installed"


# --- config and the command runner -----------------------------------------------------

def test_committed_config_pins_kinds_default_v1_37_node_image():
    node = yaml.safe_load(kind.TEMPLATE.read_text())["nodes"][0]
    # The digest kind v0.33.0 defaults to (pkg/apis/config/defaults/image.go).
    assert node["image"] == ("kindest/node:v1.37.0@sha256:"
                             "a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5")
    assert node["extraMounts"][0]["containerPath"] == NODE_SHARE_DIR


def test_committed_config_allows_cgroup_v1_like_the_local_provider():
    config = yaml.safe_load(kind.TEMPLATE.read_text())
    patches = [yaml.safe_load(p) for p in config["kubeadmConfigPatches"]]
    assert {"kind": "KubeletConfiguration", "failCgroupV1": False} in patches


def test_render_config_quotes_odd_paths():
    odd = Path('/home/a user/it\'s "here": #1')
    mounts = yaml.safe_load(render_config(odd))["nodes"][0]["extraMounts"]
    assert mounts == [{"hostPath": str(odd), "containerPath": NODE_SHARE_DIR}]


def test_run_names_a_missing_program(fakes):
    with pytest.raises(PodlabError, match="`no-such-tool --x` failed: no-such-tool is not on PATH") as failed:
        run(["no-such-tool", "--x"], hint="install it")
    assert failed.value.hint == "install it"


def test_up_pulls_upstreams_test_image_into_the_node(fakes):
    fakes.answer("kind get clusters", out="podlab\n")
    KindProvider().up()
    assert ["docker", "exec", "podlab-control-plane", "crictl", "pull", AGNHOST_IMAGE] in fakes.calls("docker")
