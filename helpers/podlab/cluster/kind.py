"""A one-node kind cluster named podlab, for laptops with a Docker engine."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from podlab import paths
from podlab.cluster.base import ClusterInfo, Readiness
from podlab.errors import PodlabError, ProviderUnavailable
from podlab.images import AGNHOST_IMAGE, LAB_IMAGE, NODE_SHARE_DIR
from podlab.progress import step

CLUSTER = "podlab"
CONTEXT = f"kind-{CLUSTER}"
NODE_CONTAINER = f"{CLUSTER}-control-plane"
TEMPLATE = Path(__file__).with_name("kind-config.yaml")
SHARE_PLACEHOLDER = '"@PODLAB_SHARE_HOST_DIR@"'
KIND_VERSION = (0, 33, 0)  # the kind release that built the pinned node image
INSTALL_KIND = ("install kind v0.33.0: `go install sigs.k8s.io/kind@v0.33.0` (then put $(go env GOPATH)/bin "
                "on PATH), or the release binary https://kind.sigs.k8s.io/dl/v0.33.0/kind-linux-amd64 "
                "(-darwin-arm64, -darwin-amd64, -windows-amd64: "
                "https://kind.sigs.k8s.io/docs/user/quick-start/#installation)")
# Which node image `podlab up --provider kind` uses. Unset: the digest pinned in kind-config.yaml
# (what readers use). "build": the node image podlab builds offline (podlab.cluster.kindnode;
# our CI machines, where no registry can be reached). Anything else: that image reference.
NODE_IMAGE_ENV = "PODLAB_KIND_NODE_IMAGE"
RESTART_TIMEOUT = 240.0   # s: a stopped node boots systemd, then the kubelet starts the control plane's static pods
RESTART_POLL = 2.0        # s between two /readyz questions while the restarted node's API server comes up
OTHER_PROVIDER = "or use `podlab up --provider local` (no Docker needed)"


def run(args: list[str], *, hint: str, log: Path | None = None, timeout: float | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise PodlabError with the command, its output tail and `hint`."""
    shown = " ".join(args)
    try:
        if log is None:
            done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        else:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("w") as out:
                done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, text=True, timeout=timeout)
            done.stdout, done.stderr = "", log.read_text(errors="replace")
    except FileNotFoundError as e:
        raise PodlabError(f"`{shown}` failed: {args[0]} is not on PATH.", hint=hint) from e
    except subprocess.TimeoutExpired as e:
        raise PodlabError(f"`{shown}` did not finish within {timeout:.0f}s.", hint=hint) from e
    if check and done.returncode != 0:
        tail = "\n".join(f"    {line}" for line in (done.stderr or done.stdout).strip().splitlines()[-12:])
        where = f" (full output: {log})" if log else ""
        raise PodlabError(f"`{shown}` failed with exit code {done.returncode}{where}:\n{tail}", hint=hint)
    return done


def first_line(text: str) -> str:
    """The first non-empty line of a command's output."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "no output")


def share_dir() -> Path:
    """Host directory mounted into the node at NODE_SHARE_DIR (per user, no root needed)."""
    return paths.cache_dir() / "kind-share"


def kind_dir() -> Path:
    """Where podlab keeps the rendered kind config and kind's logs."""
    return paths.cache_dir() / "kind"


def lab_archive() -> Path:
    """An OCI archive of the lab image, loaded into the node when it exists."""
    return paths.cache_dir() / "images" / "lab.tar"


def render_config(share: Path, node_image: str | None = None) -> str:
    """The committed kind config with this user's share directory (and another node image) filled in."""
    template = TEMPLATE.read_text()
    if node_image:
        pinned = yaml.safe_load(template)["nodes"][0]["image"]
        if template.count(pinned) != 1:
            raise PodlabError(f"{TEMPLATE} must name its node image exactly once.",
                              hint="Restore that file from the podlab repository.")
        template = template.replace(pinned, node_image)
    if template.count(SHARE_PLACEHOLDER) != 1:
        raise PodlabError(f"{TEMPLATE} must contain {SHARE_PLACEHOLDER} exactly once.",
                          hint="Restore that file from the podlab repository.")
    text = template.replace(SHARE_PLACEHOLDER, json.dumps(str(share)))  # JSON strings are YAML
    mounts = yaml.safe_load(text)["nodes"][0].get("extraMounts") or []
    if {"hostPath": str(share), "containerPath": NODE_SHARE_DIR} not in mounts:
        raise PodlabError(f"{TEMPLATE} does not mount the share directory at {NODE_SHARE_DIR}.",
                          hint="Restore that file from the podlab repository.")
    return text


def agnhost_archive() -> Path | None:
    """The local provider's agnhost build (an OCI archive), the newest if several are cached."""
    tag = AGNHOST_IMAGE.rsplit(":", 1)[1]
    found = sorted((paths.cache_dir() / "images").glob(f"agnhost-{tag}-*.tar"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def node_image_choice() -> str | None:
    """The node image asked for by PODLAB_KIND_NODE_IMAGE ("build" builds podlab's), else None."""
    chosen = os.environ.get(NODE_IMAGE_ENV, "").strip()
    if chosen == "build":
        from .kindnode import ensure_image
        return ensure_image()
    return chosen or None


def parse_version(text: str) -> tuple[int, ...] | None:
    """The version in `kind version` output (e.g. 'kind v0.33.0 go1.25 linux/amd64')."""
    found = re.search(r"v(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(n) for n in found.groups()) if found else None


class KindProvider:
    """A one-node kind cluster 'podlab', with lab images loaded and a shared host directory."""

    name = "kind"

    def check(self) -> Readiness:
        """Whether kind and an answering Docker engine are here (never raises)."""
        missing: list[str] = []
        notes: list[str] = []
        if not shutil.which("kind"):
            missing.append(f"kind is not on PATH ({INSTALL_KIND})")
        else:
            notes.extend(self._version_notes())
        if not shutil.which("docker"):
            missing.append("docker is not on PATH (install Docker Engine or Docker Desktop)")
        else:
            try:
                info = run(["docker", "info", "--format", "{{.ServerVersion}}"], hint="", timeout=30, check=False)
            except PodlabError as e:
                missing.append(f"docker CLI found but no Docker engine answers ({e.message})")
            else:
                if info.returncode != 0:
                    why = first_line(info.stderr or info.stdout)
                    if why.startswith("template:"):   # Docker 20.10's CLI, when no engine answers
                        why = f"no engine answered at {os.environ.get('DOCKER_HOST') or 'the default socket'}"
                    missing.append(f"docker CLI found but no Docker engine answers (docker info failed: {why})")
                else:
                    notes.append(f"Docker engine {info.stdout.strip()}")
        return Readiness(self.name, not missing, tuple(missing), tuple(notes))

    def _version_notes(self) -> list[str]:
        """A warning if kind is older than the release the node image was built for."""
        try:
            version = parse_version(run(["kind", "version"], hint="", timeout=30).stdout)
        except PodlabError:
            return ["could not run `kind version`"]
        if version is None or version >= KIND_VERSION:
            return []
        shown = ".".join(map(str, version))
        return [f"kind v{shown} is older than v0.33.0, which built the pinned node image; "
                f"`kind load` may fail — {INSTALL_KIND}"]

    def clusters(self) -> list[str]:
        """Names of the kind clusters that exist now."""
        out = run(["kind", "get", "clusters"], timeout=60,
                  hint="Make sure the Docker engine is running (`docker info`), then retry.").stdout
        return [line.strip() for line in out.splitlines() if line.strip()]

    def up(self) -> ClusterInfo:
        """Create the podlab cluster (or reuse it), write its kubeconfig, load lab images."""
        ready = self.check()
        if not ready.usable:
            raise ProviderUnavailable("kind cannot run here: " + "; ".join(ready.missing),
                                      hint=f"Fix that and retry, {OTHER_PROVIDER}.")
        kubeconfig = paths.kubeconfig_path()
        if CLUSTER in self.clusters():
            print(f"kind: reusing existing cluster '{CLUSTER}'", file=sys.stderr)
            self._start_stopped_node()
        else:
            self._create(kubeconfig)
        run(["kind", "export", "kubeconfig", "--name", CLUSTER, "--kubeconfig", str(kubeconfig)], timeout=60,
            hint=f"Check the cluster with `kind get clusters`; if '{CLUSTER}' is broken, "
                 f"run `podlab down --provider kind` and `podlab up --provider kind` again.")
        self._load_images()
        return ClusterInfo(provider=self.name, context=CONTEXT, kubeconfig=kubeconfig,
                           share_host_dir=share_dir())

    def _start_stopped_node(self, timeout: float = RESTART_TIMEOUT) -> None:
        """Start the node container if it exists but is stopped (a reboot, an engine restart), and wait for its API."""
        state = run(["docker", "inspect", "--format", "{{.State.Status}}", NODE_CONTAINER], hint="", timeout=60,
                    check=False)
        status = state.stdout.strip()
        if state.returncode != 0 or status not in ("exited", "created"):
            return   # running, or another state: `kind export kubeconfig` below says what is wrong
        recreate = (f"Recreate it: `podlab down --provider kind`, then `podlab up --provider kind` "
                    f"(a new, empty cluster), {OTHER_PROVIDER}.")
        with step(f"starting the stopped node container {NODE_CONTAINER} (it was {status})"):
            run(["docker", "start", NODE_CONTAINER], timeout=120, hint=recreate)
            deadline = time.monotonic() + timeout
            while True:   # no watch can answer before the API server does: ask it, until the deadline
                ready = run(["docker", "exec", NODE_CONTAINER, "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf",
                             "get", "--raw=/readyz"], hint="", timeout=30, check=False)
                if ready.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise PodlabError(
                        f"The kind node {NODE_CONTAINER} was {status}; it started again, but its API server was "
                        f"not ready within {timeout:.0f} s (last answer: "
                        f"{first_line(ready.stderr or ready.stdout) or 'none'}).", hint=recreate)
                time.sleep(RESTART_POLL)
            # The API answers before its node and kube-system's pods are Ready again: watch until they are.
            # Only the node's own: a fake node a killed lab left (chapter 7) may never be Ready.
            left = max(30.0, deadline - time.monotonic())
            for what in ([f"nodes/{NODE_CONTAINER}"],
                         ["pods", "--all", "--namespace=kube-system", f"--field-selector=spec.nodeName={NODE_CONTAINER}"]):
                run(["docker", "exec", NODE_CONTAINER, "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf",
                     "wait", "--for=condition=Ready", *what, f"--timeout={left:.0f}s"], timeout=left + 30,
                    hint=recreate)

    def _create(self, kubeconfig: Path) -> None:
        """Render the config and run `kind create cluster` (minutes: pulls the node image)."""
        share_dir().mkdir(parents=True, exist_ok=True)
        config = kind_dir() / "kind-config.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(render_config(share_dir(), node_image_choice()))
        log = kind_dir() / "create.log"
        with step(f"creating kind cluster '{CLUSTER}'", log=log):
            run(["kind", "create", "cluster", "--name", CLUSTER, "--config", str(config),
                 "--kubeconfig", str(kubeconfig), "--wait", "180s"], log=log,
                hint=f"Read {log}. Common causes: Docker is short of memory or disk, or the node image "
                     f"could not be pulled. Fix that and run `podlab up --provider kind` again, {OTHER_PROVIDER}.")

    def _load_images(self) -> None:
        """Load the lab image into the node from Docker and/or from the cached OCI archive."""
        present = run(["docker", "image", "inspect", LAB_IMAGE], hint="", timeout=60, check=False)
        retry = f"Retry `podlab up --provider kind`; the node can also pull {LAB_IMAGE} itself if it is online."
        if present.returncode == 0:
            with step(f"loading {LAB_IMAGE} into the node"):
                run(["kind", "load", "docker-image", LAB_IMAGE, "--name", CLUSTER], hint=retry, timeout=600)
        archive = lab_archive()
        if archive.is_file():
            with step(f"loading {archive} into the node"):
                run(["kind", "load", "image-archive", str(archive), "--name", CLUSTER], hint=retry, timeout=600)
        agnhost = agnhost_archive()
        if agnhost is not None:      # the local provider's build, where it has run (our machines)
            with step(f"loading {agnhost} into the node"):
                run(["kind", "load", "image-archive", str(agnhost), "--name", CLUSTER], hint=retry, timeout=600)
            return
        # Upstream's test image (chapter 5's gRPC server) comes from registry.k8s.io: pull it now,
        # so that the chapter does not wait for it; offline, the pod pulls it when it needs it.
        with step(f"pulling {AGNHOST_IMAGE} into the node"):
            pulled = run(["docker", "exec", f"{CLUSTER}-control-plane", "crictl", "pull", AGNHOST_IMAGE],
                         hint="", timeout=600, check=False)
        if pulled.returncode != 0:
            print(f"  (not pulled now: {pulled.stderr.strip()[-200:]}; a pod that needs it will pull it)",
                  file=sys.stderr)

    def down(self) -> None:
        """Empty the shared directory (files there may be root-owned) and delete the cluster."""
        if not shutil.which("kind"):
            raise PodlabError("kind is not on PATH, so the podlab kind cluster cannot be deleted.",
                              hint=f"{INSTALL_KIND.capitalize()}, or remove the container: "
                                   f"`docker rm -f {NODE_CONTAINER}`.")
        if CLUSTER not in self.clusters():
            print(f"kind: no cluster '{CLUSTER}', nothing to delete", file=sys.stderr)
            return
        run(["docker", "exec", NODE_CONTAINER, "find", NODE_SHARE_DIR, "-mindepth", "1", "-delete"],
            hint="", timeout=60, check=False)  # best effort: lets the user delete share_dir() later
        with step(f"deleting kind cluster '{CLUSTER}'"):
            run(["kind", "delete", "cluster", "--name", CLUSTER, "--kubeconfig", str(paths.kubeconfig_path())],
                timeout=300, hint=f"Retry, or remove the node container: `docker rm -f {NODE_CONTAINER}`.")
        # kind creates the Docker network "kind" and never deletes it; remove it when no other
        # kind cluster is left (Docker refuses while a container still uses it).
        if not self.clusters():
            run(["docker", "network", "rm", "kind"], hint="", timeout=60, check=False)

    def status(self) -> str:
        """One line: whether the podlab kind cluster exists (never raises)."""
        if not shutil.which("kind"):
            return "kind: not installed"
        listed = run(["kind", "get", "clusters"], hint="", timeout=60, check=False)
        if listed.returncode != 0:
            return f"kind: cannot list clusters ({first_line(listed.stderr or listed.stdout)})"
        if CLUSTER in listed.stdout.split():
            state = run(["docker", "inspect", "--format", "{{.State.Status}}", NODE_CONTAINER], hint="", timeout=60,
                        check=False).stdout.strip()
            if state and state != "running":
                return (f"kind: cluster '{CLUSTER}' exists but its node container is {state} "
                        f"(`podlab up --provider kind` starts it)")
            return f"kind: cluster '{CLUSTER}' exists (context {CONTEXT}, kubeconfig {paths.kubeconfig_path()})"
        return f"kind: no cluster '{CLUSTER}'"
