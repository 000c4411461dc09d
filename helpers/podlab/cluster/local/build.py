"""Build the pinned Kubernetes and etcd binaries from Go modules, cached by version."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ... import paths
from ...errors import PodlabError
from ...progress import step
from . import layout as L

GOMOD = Path(__file__).parent / "gomod"

KUBERNETES_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler",
                       "kubelet", "kube-proxy", "kubectl")


def _module_key(module: Path) -> str:
    """A short hash of a wrapper module's go.mod and go.sum: a change means a rebuild."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        digest.update((module / name).read_bytes())
    return digest.hexdigest()[:12]


def version_ldflags(version: str, commit: str) -> str:
    """Linker flags that stamp the version the way upstream's hack/lib/version.sh does."""
    major, minor = version.lstrip("v").split(".")[:2]
    values = {"gitVersion": version, "gitMajor": major, "gitMinor": minor, "gitCommit": commit,
              "gitTreeState": "clean", "buildDate": "1970-01-01T00:00:00Z"}
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {package}.{key}={value}" for key, value in values.items()]
    return " ".join(flags)


def go_env() -> dict[str, str]:
    """The environment for reproducible, offline-friendly, static builds."""
    env = dict(os.environ)
    # sum.golang.org may be unreachable; the committed go.sum files pin every module's hash.
    env.update({"CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOSUMDB": "off",
                "GOFLAGS": "-trimpath -mod=readonly"})
    return env


def go_build_command(output: Path, packages: list[str], *, ldflags: str = "-s -w", tags: str = "") -> list[str]:
    """The `go build` command line for a set of main packages into one directory."""
    command = ["go", "build", "-o", f"{output}/", "-ldflags", ldflags]
    if tags:
        command += ["-tags", tags]
    return command + packages


def _build(name: str, version: str, module: Path, packages: list[str], binaries: tuple[str, ...],
           ldflags: str, tags: str = "", renames: dict[str, str] | None = None) -> Path:
    target = L.binaries_dir(name, f"{version}-{_module_key(module)}")
    if all((target / b).exists() for b in binaries):
        return target
    if shutil.which("go") is None:
        raise PodlabError(f"Building {name} {version} needs Go, which is not installed.",
                          hint="apt-get install golang-go (≥1.25), or copy a cache from another machine into "
                               f"{target}")
    log = paths.cache_dir() / "logs" / f"build-{name}-{version}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    command = go_build_command(partial, packages, ldflags=ldflags, tags=tags)
    with step(f"building {name} {version} from Go modules ({', '.join(binaries)})", log=log), \
            open(log, "w") as out:
        out.write(f"$ (cd {module} && {' '.join(command)})\n")
        out.flush()
        result = subprocess.run(command, cwd=module, env=go_env(), stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise PodlabError(f"Building {name} {version} failed (exit {result.returncode}):\n{tail}",
                          hint=f"Full log: {log}. A network error means the Go module proxy was not reachable; "
                               "run `podlab up` again when it is.")
    for built, wanted in (renames or {}).items():
        (partial / built).rename(partial / wanted)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def build_kubernetes() -> Path:
    """Build (or reuse) kube-apiserver, controller-manager, scheduler, kubelet, kube-proxy and kubectl."""
    packages = [f"k8s.io/kubernetes/cmd/{c}" for c in KUBERNETES_COMMANDS]
    return _build("kubernetes", L.KUBERNETES_VERSION, GOMOD / "kubernetes", packages, KUBERNETES_COMMANDS,
                  version_ldflags(L.KUBERNETES_VERSION, L.KUBERNETES_COMMIT), tags="selinux,notest")


def build_etcd() -> Path:
    """Build (or reuse) etcd and etcdctl."""
    return _build("etcd", L.ETCD_VERSION, GOMOD / "etcd",
                  ["go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/etcdctl/v3"], ("etcd", "etcdctl"),
                  "-s -w", renames={"server": "etcd"})


def kubernetes_bin_dir() -> Path:
    """Where the pinned Kubernetes binaries are (or will be) cached."""
    return L.binaries_dir("kubernetes", f"{L.KUBERNETES_VERSION}-{_module_key(GOMOD / 'kubernetes')}")


def binaries_cached() -> bool:
    """Whether every binary the cluster needs is already in the cache."""
    k8s = kubernetes_bin_dir()
    etcd = L.binaries_dir("etcd", f"{L.ETCD_VERSION}-{_module_key(GOMOD / 'etcd')}")
    return all((k8s / b).exists() for b in KUBERNETES_COMMANDS) and (etcd / "etcd").exists()
