"""Build the cluster's binaries from Go modules, cached by component, version and module hash.

Each component is built in a small wrapper module (``gomod/<name>/``: go.mod, go.sum) that
requires the upstream module at one version and lists its commands as ``tool`` entries.
The wrapper modules of the default versions are committed; for another Kubernetes release
(`podlab up --kubernetes-version`) podlab writes the same kind of wrapper into its cache and
lets ``go mod tidy`` pin it there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ... import paths
from ...errors import PodlabError
from ...progress import step
from . import layout as L

GOMOD = Path(__file__).parent / "gomod"

KUBERNETES_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler",
                       "kubelet", "kube-proxy", "kubectl", "kubeadm")
CONTAINERD_COMMANDS = ("containerd", "containerd-shim-runc-v2", "ctr")
AGNHOST_PACKAGE = "k8s.io/kubernetes/test/images/agnhost"
# What the Go module proxy is asked for when it refuses a version.
VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Release:
    """One Kubernetes release and the add-on versions its kubeadm pins."""

    kubernetes: str          # v1.37.2
    etcd: str                # 3.7.0-0 (image tag; the etcd module is v3.7.0)
    coredns: str             # v1.14.6
    pause: str               # 3.10.2
    build_date: str = "1970-01-01T00:00:00Z"

    @property
    def minor(self) -> int:
        """The minor version number (37 for v1.37.2)."""
        return int(self.kubernetes.split(".")[1])

    @property
    def etcd_module_version(self) -> str:
        """The etcd Go module version of the image tag (3.7.0-0 → v3.7.0)."""
        return "v" + self.etcd.split("-")[0]


@dataclass(frozen=True)
class GoBuild:
    """How to build a set of commands from one wrapper module."""

    name: str
    version: str
    module: Path
    packages: tuple[str, ...]
    binaries: tuple[str, ...]
    ldflags: str = "-s -w"
    tags: str = ""
    cgo: bool = False
    renames: dict[str, str] = field(default_factory=dict)

    def target(self) -> Path:
        """The cache directory of this build."""
        return L.binaries_dir(self.name, f"{self.version}-{module_key(self.module)}")

    def cached(self) -> bool:
        """Whether every binary of this build is already in the cache."""
        return self.module.joinpath("go.sum").exists() and all((self.target() / b).exists() for b in self.binaries)


def module_key(module: Path) -> str:
    """A short hash of a wrapper module's go.mod and go.sum: a change means a rebuild."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        path = module / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def normalize_version(version: str) -> str:
    """`1.36.3` or `v1.36.3` → `v1.36.3`; anything else is refused with what to type."""
    match = VERSION_RE.match(version.strip())
    if not match:
        raise PodlabError(f"{version!r} is not a Kubernetes release version.",
                          hint=f"Give a full release such as {L.DEFAULT_KUBERNETES_VERSION} "
                               "(`podlab up --kubernetes-version 1.36.3`).")
    major, minor, _patch = (int(g) for g in match.groups())
    if major != 1 or minor < L.OLDEST_MINOR:
        raise PodlabError(f"Kubernetes {version} is not supported by podlab's local provider.",
                          hint=f"Use v1.{L.OLDEST_MINOR}.x or newer (the default is {L.DEFAULT_KUBERNETES_VERSION}); "
                               "podlab's kubeadm configuration (v1beta4, failCgroupV1) needs it.")
    return "v" + ".".join(match.groups())


def version_ldflags(version: str, build_date: str) -> str:
    """Linker flags that stamp the version the way upstream's hack/lib/version.sh does.

    A module zip carries no git metadata, so the tree state is "archive" and the commit is
    left empty, as upstream does for builds from a source archive.
    """
    major, minor = version.lstrip("v").split(".")[:2]
    values = {"gitVersion": version, "gitMajor": major, "gitMinor": minor,
              "gitTreeState": "archive", "buildDate": build_date}
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {package}.{key}={value}" for key, value in values.items()]
    return " ".join(flags)


def go_env(*, cgo: bool = False) -> dict[str, str]:
    """The environment for reproducible, offline-friendly builds."""
    env = dict(os.environ)
    # sum.golang.org may be unreachable; the go.sum files pin every module's hash.
    env.update({"CGO_ENABLED": "1" if cgo else "0", "GOTOOLCHAIN": "local", "GOSUMDB": "off",
                "GOFLAGS": "-trimpath -mod=readonly -buildvcs=false"})
    return env


def go_build_command(output: Path, packages: list[str], *, ldflags: str = "-s -w", tags: str = "") -> list[str]:
    """The `go build` command line for a set of main packages into one directory."""
    command = ["go", "build", "-o", f"{output}/", "-ldflags", ldflags]
    if tags:
        command += ["-tags", tags]
    return command + packages


def _need_go(what: str) -> None:
    if shutil.which("go") is None:
        raise PodlabError(f"Building {what} needs Go, which is not installed.",
                          hint="Install Go ≥ 1.26 (apt-get install golang-go from a recent Debian, or go.dev), "
                               "then run `podlab up` again.")


def build(recipe: GoBuild) -> Path:
    """Build (or reuse) the binaries of `recipe`; returns their directory."""
    target = recipe.target()
    if recipe.cached():
        return target
    _need_go(f"{recipe.name} {recipe.version}")
    log = paths.cache_dir() / "logs" / f"build-{recipe.name}-{recipe.version}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    command = go_build_command(partial, list(recipe.packages), ldflags=recipe.ldflags, tags=recipe.tags)
    with step(f"building {recipe.name} {recipe.version} from Go modules ({', '.join(recipe.binaries)})", log=log), \
            open(log, "w") as out:
        out.write(f"$ (cd {recipe.module} && {' '.join(command)})\n")
        out.flush()
        result = subprocess.run(command, cwd=recipe.module, env=go_env(cgo=recipe.cgo), stdout=out,
                                stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise PodlabError(f"Building {recipe.name} {recipe.version} failed (exit {result.returncode}):\n{tail}",
                          hint=f"Full log: {log}. A network error means the Go module proxy was not reachable; "
                               "run `podlab up` again when it is.")
    for built, wanted in recipe.renames.items():
        (partial / built).rename(partial / wanted)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


# ---------------------------------------------------------------- wrapper modules

def render_wrapper(name: str, go: str, requires: dict[str, str], tools: list[str],
                   replaces: dict[str, str] | None = None, godebug: str | None = None) -> str:
    """A wrapper module's go.mod before `go mod tidy` fills in the indirect requirements."""
    lines = [f"module podlab.invalid/{name}", "", f"go {go}", ""]
    if godebug:
        lines += [f"godebug default={godebug}", ""]
    lines += ["require ("] + [f"\t{m} {v}" for m, v in requires.items()] + [")", ""]
    for module, version in (replaces or {}).items():
        lines.append(f"replace {module} => {module} {version}")
    if replaces:
        lines.append("")
    lines += ["tool ("] + [f"\t{t}" for t in tools] + [")", ""]
    return "\n".join(lines)


def _go(args: list[str], *, cwd: Path, what: str) -> str:
    env = go_env()
    env["GOFLAGS"] = "-mod=mod -buildvcs=false"
    result = subprocess.run(["go", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise _fetch_error(what, result.stderr.strip() or result.stdout.strip())
    return result.stdout


def _fetch_error(what: str, message: str) -> PodlabError:
    """A module the proxy does not have (a wrong version) versus a proxy that cannot be reached."""
    message = message[-800:]
    if any(s in message for s in ("unknown revision", "invalid version", "no matching versions", "404 Not Found",
                                  "not available")):
        known = published_releases()
        listed = f" Releases on the proxy: {', '.join(known[-8:])}." if known else ""
        return PodlabError(f"The Go module proxy has no {what}:\n  {message}",
                           hint=f"Check the version.{listed} (`go list -m -versions k8s.io/kubernetes` lists all.)")
    return PodlabError(f"Fetching {what} from the Go module proxy failed:\n  {message}",
                       hint="Check the network and GOPROXY (`go env GOPROXY`), then run `podlab up` again.")


def published_releases() -> list[str]:
    """The Kubernetes releases podlab supports that the Go module proxy has, oldest first."""
    try:
        out = subprocess.run(["go", "list", "-m", "-versions", "k8s.io/kubernetes"], capture_output=True,
                             text=True, timeout=30, env={**go_env(), "GOFLAGS": "-mod=mod"},
                             cwd=paths.cache_dir() if paths.cache_dir().exists() else None).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    releases = [v for v in out.split()[1:] if VERSION_RE.match(v) and int(v.split(".")[1]) >= L.OLDEST_MINOR]
    return sorted(releases, key=lambda v: tuple(int(n) for n in v.lstrip("v").split(".")))


def module_source(module: str, version: str) -> Path:
    """Download one module version into Go's module cache and return its directory."""
    _need_go(f"{module} {version}")
    scratch = paths.cache_dir() / "gomod"
    scratch.mkdir(parents=True, exist_ok=True)
    env = go_env()
    env["GOFLAGS"] = "-mod=mod -buildvcs=false"
    result = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=scratch, env=env,
                            capture_output=True, text=True)
    try:
        info = json.loads(result.stdout)
    except ValueError:
        info = {"Error": result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}"}
    if result.returncode != 0 or "Error" in info:
        raise _fetch_error(f"{module}@{version}", info.get("Error", result.stderr.strip()))
    return Path(info["Dir"])


def staging_modules(kubernetes_dir: Path) -> list[str]:
    """The k8s.io staging modules the kubernetes module replaces with its own directories."""
    text = (kubernetes_dir / "go.mod").read_text()
    return sorted(m for m in re.findall(r"^\s*(k8s\.io/[\w.-]+) => \./staging/", text, re.M)
                  if not m.startswith("k8s.io/sample-"))


def _go_directive(module_dir: Path) -> str:
    match = re.search(r"^go (\S+)", (module_dir / "go.mod").read_text(), re.M)
    return match.group(1) if match else "1.26.0"


def generated_module(name: str, version: str, gomod: str) -> Path:
    """A wrapper module written into the cache and pinned there with `go mod tidy`."""
    directory = paths.cache_dir() / "gomod" / f"{name}-{version}"
    if (directory / "go.sum").exists() and (directory / "go.mod.in").read_text() == gomod:
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "go.sum").unlink(missing_ok=True)
    (directory / "go.mod").write_text(gomod)
    with step(f"resolving the Go modules of {name} {version}"):
        _go(["mod", "tidy"], cwd=directory, what=f"the modules of {name} {version}")
    (directory / "go.mod.in").write_text(gomod)
    return directory


def kubernetes_gomod(version: str, kubernetes_dir: Path) -> str:
    """The wrapper go.mod for one Kubernetes release (staging modules at v0.Y.Z)."""
    staging_version = "v0." + version.lstrip("v").split(".", 1)[1]
    godebug = re.search(r"^godebug default=(\S+)", (kubernetes_dir / "go.mod").read_text(), re.M)
    return render_wrapper("kubernetes", _go_directive(kubernetes_dir), {"k8s.io/kubernetes": version},
                          [f"k8s.io/kubernetes/cmd/{c}" for c in KUBERNETES_COMMANDS],
                          {m: staging_version for m in staging_modules(kubernetes_dir)},
                          godebug.group(1) if godebug else None)


def agnhost_gomod(version: str, kubernetes_dir: Path) -> str:
    """The wrapper go.mod for upstream's e2e test image program, from one Kubernetes release."""
    gomod = kubernetes_gomod(version, kubernetes_dir).replace("podlab.invalid/kubernetes", "podlab.invalid/agnhost")
    return re.sub(r"tool \(\n.*?\)\n", f"tool (\n\t{AGNHOST_PACKAGE}\n)\n", gomod, flags=re.S)


def etcd_gomod(module_version: str) -> str:
    """The wrapper go.mod for etcd and etcdctl, every etcd module at the same version."""
    modules = ("server/v3", "etcdctl/v3", "api/v3", "client/pkg/v3", "client/v3", "pkg/v3")
    return render_wrapper("etcd", "1.26.0", {f"go.etcd.io/etcd/{m}": module_version for m in modules},
                          ["go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/etcdctl/v3"])


def coredns_gomod(version: str) -> str:
    """The wrapper go.mod for CoreDNS."""
    return render_wrapper("coredns", "1.26.0", {"github.com/coredns/coredns": version},
                          ["github.com/coredns/coredns"])


def wrapper_module(name: str, version: str, render) -> Path:
    """The committed wrapper module if it pins `version`, else one generated in the cache."""
    committed = GOMOD / name
    if (committed / "go.mod").exists() and re.search(rf"\s{re.escape(version)}(\s|$)",
                                                     (committed / "go.mod").read_text()):
        return committed
    return generated_module(name, version, render())


# ---------------------------------------------------------------- releases

def _release_file(version: str) -> Path:
    return paths.cache_dir() / "releases" / f"kubernetes-{version}.json"


def release(version: str = L.DEFAULT_KUBERNETES_VERSION) -> Release:
    """The release `version` with the etcd, CoreDNS and pause versions its kubeadm pins."""
    version = normalize_version(version)
    cached = _release_file(version)
    if cached.exists():
        return Release(**json.loads(cached.read_text()))
    source = module_source("k8s.io/kubernetes", version)
    constants = (source / "cmd/kubeadm/app/constants/constants.go").read_text()

    def constant(name: str) -> str:
        match = re.search(rf'\b{name}\s*=\s*"([^"]+)"', constants)
        if not match:
            raise PodlabError(f"kubeadm {version} does not define {name}; podlab cannot tell which add-on to build.",
                              hint=f"Use a release podlab knows, such as {L.DEFAULT_KUBERNETES_VERSION}.")
        return match.group(1)

    result = Release(version, constant("DefaultEtcdVersion"), constant("CoreDNSVersion"), constant("PauseVersion"),
                     _module_time("k8s.io/kubernetes", version) or "1970-01-01T00:00:00Z")
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result.__dict__, indent=2))
    return result


def _module_time(module: str, version: str) -> str | None:
    """The publication time the module proxy records for a version (used as the build date)."""
    gomodcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True).stdout.strip()
    info = Path(gomodcache, "cache", "download", module, "@v", f"{version}.info")
    try:
        return json.loads(info.read_text())["Time"].replace(".000", "")
    except (OSError, ValueError, KeyError):
        return None


# ---------------------------------------------------------------- the recipes

def kubernetes_recipe(rel: Release) -> GoBuild:
    """kube-apiserver, controller-manager, scheduler, kubelet, kube-proxy, kubectl and kubeadm."""
    module = wrapper_module("kubernetes", rel.kubernetes,
                            lambda: kubernetes_gomod(rel.kubernetes, module_source("k8s.io/kubernetes", rel.kubernetes)))
    return GoBuild("kubernetes", rel.kubernetes, module,
                   tuple(f"k8s.io/kubernetes/cmd/{c}" for c in KUBERNETES_COMMANDS), KUBERNETES_COMMANDS,
                   version_ldflags(rel.kubernetes, rel.build_date), tags="selinux,notest")


def agnhost_recipe(rel: Release) -> GoBuild:
    """agnhost, upstream's e2e test program (the gRPC health server of the probe chapter)."""
    module = wrapper_module("agnhost", rel.kubernetes,
                            lambda: agnhost_gomod(rel.kubernetes, module_source("k8s.io/kubernetes", rel.kubernetes)))
    return GoBuild("agnhost", rel.kubernetes, module, (AGNHOST_PACKAGE,), ("agnhost",))


def etcd_recipe(rel: Release) -> GoBuild:
    """etcd and etcdctl at the version kubeadm pins."""
    version = rel.etcd_module_version
    module = wrapper_module("etcd", version, lambda: etcd_gomod(version))
    return GoBuild("etcd", version, module, ("go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/etcdctl/v3"),
                   ("etcd", "etcdctl"), renames={"server": "etcd"})


def coredns_recipe(rel: Release) -> GoBuild:
    """CoreDNS at the version kubeadm pins."""
    module = wrapper_module("coredns", rel.coredns, lambda: coredns_gomod(rel.coredns))
    return GoBuild("coredns", rel.coredns, module, ("github.com/coredns/coredns",), ("coredns",),
                   ldflags=f"-s -w -X github.com/coredns/coredns/coremain.GitCommit={rel.coredns}")


def containerd_recipe() -> GoBuild:
    """containerd, its runc shim and ctr, static, stamped with their version."""
    package = "github.com/containerd/containerd/v2"
    ldflags = (f"-s -w -X {package}/version.Version={L.CONTAINERD_VERSION} -X {package}/version.Package={package}")
    return GoBuild("containerd", L.CONTAINERD_VERSION, GOMOD / "containerd",
                   tuple(f"{package}/cmd/{c}" for c in CONTAINERD_COMMANDS), CONTAINERD_COMMANDS,
                   ldflags=ldflags, tags="urfave_cli_no_docs,osusergo,netgo,no_btrfs")


def runc_recipe() -> GoBuild:
    """runc with seccomp (cgo: its nsenter is C, and libseccomp is linked from Debian's package)."""
    ldflags = f"-s -w -X main.version={L.RUNC_VERSION.lstrip('v')}"
    return GoBuild("runc", L.RUNC_VERSION, GOMOD / "runc", ("github.com/opencontainers/runc",), ("runc",),
                   ldflags=ldflags, tags="seccomp,urfave_cli_no_docs", cgo=True)


def all_recipes(rel: Release) -> list[GoBuild]:
    """Everything the local cluster builds from Go modules for one release."""
    return [kubernetes_recipe(rel), etcd_recipe(rel), coredns_recipe(rel), containerd_recipe(), runc_recipe(),
            agnhost_recipe(rel)]


def build_all(rel: Release) -> dict[str, Path]:
    """Build (or reuse) everything for `rel`, in two lanes: Kubernetes beside the rest.

    One `go build` keeps both cores busy while it compiles but links its big binaries one at
    a time; a second lane uses the idle core meanwhile (a cold build is about a tenth faster).
    """
    from concurrent.futures import ThreadPoolExecutor

    recipes = all_recipes(rel)
    kubernetes, others = recipes[0], recipes[1:]
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(build, kubernetes)
        rest = pool.submit(lambda: {r.name: build(r) for r in others})
        return {kubernetes.name: first.result(), **rest.result()}


def kubernetes_bin_dir(version: str = L.DEFAULT_KUBERNETES_VERSION) -> Path:
    """Where a release's Kubernetes binaries are cached (for the default release, without Go)."""
    if normalize_version(version) == L.DEFAULT_KUBERNETES_VERSION:
        return L.binaries_dir("kubernetes", f"{version}-{module_key(GOMOD / 'kubernetes')}")
    return kubernetes_recipe(release(version)).target()


def binaries_cached(version: str = L.DEFAULT_KUBERNETES_VERSION) -> bool:
    """Whether every binary a release needs is already cached (so no Go is needed)."""
    if not _release_file(normalize_version(version)).exists():
        return False
    try:
        return all(r.cached() for r in all_recipes(release(version)))
    except PodlabError:
        return False
