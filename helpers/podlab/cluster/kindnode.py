"""kind v0.33.0 and a kind node image built offline, for our VMs (no registry can be reached).

kind v0.33.0 is built from its Go module. The node image follows kind's own recipe, read from
that module: `images/base/Dockerfile` (a Debian trixie root file system with the packages it
installs, kind's base files and unit changes, containerd, runc, crictl, the CNI plugins and
containerd-fuse-overlayfs) and `pkg/build/nodeimage` (the Kubernetes binaries in /usr/bin,
/kind/version, the default CNI and storage manifests, every image preloaded into the node's
containerd). Where podlab departs from it, `DIFFERENCES` says how and why; the README lists
them. The image is tagged `podlab.invalid/kind-node:<kubernetes>-<key>`, never kindest/node,
and its archive is cached under `<podlab cache>/kind-node/` by a hash of every input.

A reader's kind pulls the published kindest/node image and needs none of this.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .. import paths
from ..errors import PodlabError
from ..images import AGNHOST_IMAGE, LAB_IMAGE
from ..progress import step
from .local import build, images
from .local import layout as L

KIND_MODULE = "sigs.k8s.io/kind"
KIND_VERSION = "v0.33.0"
FORMAT = "1"                                 # bump when the recipe below changes
SUITE = "trixie"                             # images/base/Dockerfile: debian:trixie-slim
MIRROR = "http://deb.debian.org/debian"
# images/base/Dockerfile's clean-install list, word for word.
PACKAGES = ("systemd", "conntrack", "iptables", "nftables", "iproute2", "ethtool", "util-linux", "mount", "kmod",
            "libseccomp2", "pigz", "fuse-overlayfs", "nfs-common", "open-iscsi", "e2fsprogs",
            "bash", "ca-certificates", "curl", "jq", "procps")
IMAGE_REPO = "podlab.invalid/kind-node"
PROVISIONER_IMAGE = "podlab.invalid/local-path-provisioner:v0.0.30"
HELPER_IMAGE = f"podlab.invalid/local-path-helper:{SUITE}"
CNI_SUBSTITUTE_NAME = "podlab-ptp-cni"
ONE_NODE_POD_CIDR = "10.244.0.0/24"   # the node's spec.podCIDR in a one-node kind cluster (cni_substitute_manifest)

# What kind's Dockerfile builds from source at these pins, and what podlab builds instead.
GO_PARTS = {
    # name: (module, version, packages, binaries)
    "crictl": ("sigs.k8s.io/cri-tools", "v1.36.0", ("sigs.k8s.io/cri-tools/cmd/crictl",), ("crictl",)),
    "cni-plugins": ("github.com/containernetworking/plugins", "v1.9.1",
                    tuple(f"github.com/containernetworking/plugins/plugins/{p}"
                          for p in ("ipam/host-local", "main/loopback", "main/ptp", "meta/portmap")),
                    ("host-local", "loopback", "ptp", "portmap")),
    "fuse-overlayfs": ("github.com/containerd/fuse-overlayfs-snapshotter/v2", "v2.1.7",
                       ("github.com/containerd/fuse-overlayfs-snapshotter/v2/cmd/containerd-fuse-overlayfs-grpc",),
                       ("containerd-fuse-overlayfs-grpc",)),
    # kind pins local-path-provisioner v0.0.34 (images/local-path-provisioner/Makefile); the Go
    # module proxy answers "403 This module version is not available" for it and lists only v0.0.30.
    "local-path-provisioner": ("github.com/rancher/local-path-provisioner", "v0.0.30",
                               ("github.com/rancher/local-path-provisioner",), ("local-path-provisioner",)),
}

DIFFERENCES = (
    ("Kubernetes v1.37.2 (kindest/node:v1.37.0 has v1.37.0)",
     "the local provider's build is reused, so CI builds Kubernetes once; same minor, patch fixes only"),
    ("containerd v2.3.7 built CGO_ENABLED=0 (kind pins v2.3.4, built with cgo)",
     "the local provider's build is reused; same minor"),
    ("pause 3.10.2 as the sandbox image (kind's containerd config names pause:3.10)",
     "kubeadm 1.37's pin, the image the local provider builds; config.toml's sandbox_image says so"),
    ("restrict_oom_score_adj = true in /etc/containerd/config.toml (kind: false)",
     "root on our VMs lacks CAP_SYS_RESOURCE, so runc cannot set the kubelet's negative OOM scores (-998 "
     "for every sandbox); containerd clamps them instead, as on the local provider"),
    ("the cgroupfs cgroup driver: SystemdCgroup = false for both runtimes in /etc/containerd/config.toml "
     "(kind: true); the kubelet takes its driver from the runtime (KubeletCgroupDriverFromCRI, GA and locked "
     "on since 1.34), so its config file's cgroupDriver: systemd, from kind's kubeadm config, goes unused",
     "our hosts are cgroup v1, where runc's systemd driver freezes a container's cgroup before it sets the "
     "unit's properties and gives up after 1000 tries ('unable to freeze', opencontainers/cgroups fs/freezer.go): "
     "chapter 3's twelve-pod race Job hit it on loaded cores; and on v1 the systemd driver can remove a "
     "container's scope before containerd sees its OOM kill. cgroupfs is what kind used before Kubernetes 1.24 "
     "and what the local provider uses; readers' kind on cgroup v2 hosts has neither problem"),
    ("no kindnetd: a DaemonSet 'podlab-ptp-cni' (busybox) writes a ptp + host-local + portmap conflist",
     "kindnetd is not a Go module the proxy serves (sigs.k8s.io/kind/images/kindnetd: 404 for its version "
     "list, 403 for kind's commit); the conflist has the plugins kindnet's has, without kindnetd's "
     "masquerade and network policies"),
    ("local-path-provisioner v0.0.30 as podlab.invalid/local-path-provisioner:v0.0.30 (kind: v0.0.34)",
     "v0.0.34 is not served by the Go module proxy (403); the manifest names podlab's image"),
    ("local-path-helper: sh, rm, mkdir and their libraries from the node's own trixie packages",
     "kind stages the same three commands from debian:trixie-slim onto distroless; no registry here"),
    ("busybox and agnhost (the lab images) preloaded",
     "the CNI substitute runs busybox at cluster creation; a reader's kind pulls the lab images"),
    ("/usr/share/doc, man pages and locales kept; no debian:trixie-slim dpkg path exclusions",
     "the root file system is debootstrap's minbase, not the trixie-slim image; clean-install removes "
     "/usr/share/doc/* and /usr/share/man/* after its own install, as here"),
    ("podlab-offline-dns.service: the node's resolv.conf names the node's own address",
     "offline, Docker 20.10's embedded DNS never answers when its upstream is unreachable, so each lookup "
     "(and so each pull of an absent image) waited out the resolver's timeouts; now names outside the "
     "cluster fail at once, as on the local provider"),
    ("STOPSIGNAL, ENV and ENTRYPOINT set by a metadata-only `docker build` after `docker import`",
     "Docker 20.10's `docker import --change` refuses STOPSIGNAL"),
)


# ---------------------------------------------------------------- inputs

def kind_source() -> Path:
    """kind v0.33.0's module source (Go's module cache)."""
    return build.module_source(KIND_MODULE, KIND_VERSION)


def kind_binary() -> Path:
    """kind v0.33.0 built from its Go module, cached by version."""
    target = paths.cache_dir() / "bin" / f"kind-{KIND_VERSION}" / "kind"
    if target.exists():
        return target
    build._need_go(f"kind {KIND_VERSION}")
    log = paths.cache_dir() / "logs" / f"build-kind-{KIND_VERSION}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent.with_name(target.parent.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    env = {**build.go_env(), "GOFLAGS": "-mod=mod -trimpath -buildvcs=false", "GOBIN": str(partial)}
    with step(f"building kind {KIND_VERSION} from its Go module", log=log), open(log, "w") as out:
        done = subprocess.run(["nice", "-n", "19", "go", "install", f"{KIND_MODULE}@{KIND_VERSION}"],
                              env=env, stdout=out, stderr=subprocess.STDOUT, cwd=partial)
    if done.returncode != 0:
        raise PodlabError(f"Building kind {KIND_VERSION} failed:\n{log.read_text()[-800:]}", hint=f"Full log: {log}")
    shutil.rmtree(target.parent, ignore_errors=True)
    partial.rename(target.parent)
    return target


def go_constants(source: str) -> dict[str, str]:
    """Go string constants of a file: `const X = "..."` and `const X = \\`...\\` + Y + \\`...\\``."""
    simple = dict(re.findall(r'^const (\w+) = "([^"]*)"', source, re.M))
    result = dict(simple)
    for name, body in re.findall(r"^const (\w+) = ((?:`[^`]*`|\w+|\s*\+\s*)+)", source, re.M):
        parts = re.findall(r"`([^`]*)`|(\w+)", body)
        result[name] = "".join(text if text else simple[ident] for text, ident in parts)
    return result


def go_recipe(name: str) -> build.GoBuild:
    """A wrapper module for one of kind's Go parts (generated and pinned in the cache)."""
    module, version, packages, binaries = GO_PARTS[name]
    gomod = build.render_wrapper(name, "1.26.0", {module: version}, list(packages))
    directory = build.generated_module(name, version, gomod)
    return build.GoBuild(name, version, directory, packages, binaries)


def local_parts() -> dict:
    """The local provider's builds (Kubernetes, containerd, runc, its image archives), built if not cached."""
    rel = build.release(L.DEFAULT_KUBERNETES_VERSION)
    bins = build.build_all(rel)
    archives = {spec.name: images.cached_archive(spec) for spec in images.image_specs(rel, bins)}
    return {**bins, **{f"image:{n}": p for n, p in archives.items()}, "release": rel}


# ---------------------------------------------------------------- the root file system

def run(command: list[str], *, log: Path, what: str, cwd: Path | None = None, env: dict | None = None,
        stdin=None) -> None:
    """Run a build command (niced: others run timing-sensitive notebooks here) into a log."""
    with open(log, "a") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        done = subprocess.run(["nice", "-n", "19", *command], cwd=cwd, env=env, stdout=out,
                              stderr=subprocess.STDOUT, stdin=stdin)
    if done.returncode != 0:
        raise PodlabError(f"{what} failed (exit {done.returncode}):\n{images.tail(log.read_text())}",
                          hint=f"Full log: {log}")


def install_debootstrap(log: Path) -> None:
    """Debian's debootstrap package (a fresh CI machine lacks it), with apt-get."""
    if not shutil.which("apt-get"):
        raise PodlabError("debootstrap is not installed and this machine has no apt-get.",
                          hint="Install debootstrap (it builds the node image's root file system).")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with step("installing debootstrap (apt-get)", log=log):
        for command in (["apt-get", "update", "-q"],
                        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "debootstrap"]):
            run(command, log=log, what=" ".join(command), env=env)


def debootstrap_tar(log: Path) -> Path:
    """debootstrap --variant=minbase of trixie with kind's packages, as a tar (cached)."""
    key = hashlib.sha256(json.dumps([SUITE, MIRROR, PACKAGES]).encode()).hexdigest()[:12]
    tar = cache() / f"debootstrap-{SUITE}-{key}.tar"
    if tar.exists():
        return tar
    if not shutil.which("debootstrap"):
        install_debootstrap(log)
    work = Path(tempfile.mkdtemp(prefix="podlab-debootstrap-", dir="/var/tmp"))
    try:
        with step(f"debootstrap {SUITE} with kind's base packages", log=log):
            run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(work), MIRROR],
                log=log, what="debootstrap")
            run(["tar", "-C", str(work), "--numeric-owner", "-cf", str(tar) + ".partial", "."], log=log,
                what="archiving the root file system")
        os.replace(str(tar) + ".partial", tar)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tar


def cache() -> Path:
    path = paths.cache_dir() / "kind-node"
    path.mkdir(parents=True, exist_ok=True)
    return path


def copy(src: Path, dest: Path, mode: int) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink() or dest.exists():
        dest.unlink()
    shutil.copyfile(src, dest)
    dest.chmod(mode)


def apply_base(root: Path, files: Path, log: Path) -> None:
    """images/base/Dockerfile's first stage on the debootstrapped root (its COPY and RUN lines)."""
    for src in (files / "usr/local/bin").iterdir():
        copy(src, root / "usr/local/bin" / src.name, 0o755)
    for src in (files / "kind").rglob("*"):
        if src.is_file():
            rel = src.relative_to(files)
            copy(src, root / rel, 0o755 if rel.parts[:2] == ("kind", "bin") else 0o644)
    for sub in ("LICENSES", "etc", "etc/containerd", "etc/default", "etc/sysctl.d", "etc/systemd/system",
                "etc/systemd/system/kubelet.service.d"):
        for src in (files / sub).iterdir():
            if src.is_file():
                copy(src, root / sub / src.name, 0o644)
    (root / "kind").chmod(0o755)
    (root / "kind/bin").chmod(0o755)
    # clean-install's removals after its apt-get install.
    for pattern in ("var/cache/debconf/*", "var/lib/apt/lists/*", "var/log/*", "tmp/*", "var/tmp/*",
                    "usr/share/doc/*", "usr/share/doc-base/*", "usr/share/man/*", "usr/share/local/*"):
        for path in root.glob(pattern):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    # The RUN line's unit removals, journald's ReadKMsg=no and /sbin/init.
    for path in (root / "lib/systemd/system/sysinit.target.wants").glob("systemd-tmpfiles-setup.service"):
        path.unlink()
    for pattern in ("lib/systemd/system/multi-user.target.wants/*", "etc/systemd/system/*.wants/*",
                    "lib/systemd/system/local-fs.target.wants/*", "lib/systemd/system/sockets.target.wants/*udev*",
                    "lib/systemd/system/sockets.target.wants/*initctl*", "lib/systemd/system/basic.target.wants/*"):
        for path in root.glob(pattern):
            path.unlink()
    with open(root / "etc/systemd/journald.conf", "a") as f:
        f.write("ReadKMsg=no\n")
    init = root / "sbin/init"
    if init.is_symlink() or init.exists():
        init.unlink()
    init.symlink_to("/usr/lib/systemd/systemd")
    run(["chroot", str(root), "systemctl", "enable", "kubelet.service", "containerd.service",
         "undo-mount-hacks.service"], log=log, what="systemctl enable")
    run(["chroot", str(root), "systemctl", "mask", "systemd-binfmt.service"], log=log, what="systemctl mask")
    (root / "etc/kubernetes/manifests").mkdir(parents=True, exist_ok=True)


def cri_base_spec(ctr: Path) -> str:
    """`ctr oci spec`, plus kind's createContainer hook, minus process.rlimits (its RUN line with jq)."""
    spec = json.loads(subprocess.run([str(ctr), "oci", "spec"], capture_output=True, text=True, check=True).stdout)
    spec.setdefault("hooks", {}).setdefault("createContainer", []).append({"path": "/kind/bin/mount-product-files.sh"})
    spec.get("process", {}).pop("rlimits", None)
    return json.dumps(spec, indent=2) + "\n"


def apply_build_stage(root: Path, parts: dict[str, Path], go: dict[str, Path]) -> None:
    """The Dockerfile's final stage: containerd, runc, crictl, CNI plugins, fuse-overlayfs."""
    for name in ("containerd", "ctr", "containerd-shim-runc-v2"):
        copy(parts["containerd"] / name, root / "usr/local/bin" / name, 0o755)
    (root / "etc/containerd/cri-base.json").write_text(cri_base_spec(parts["containerd"] / "ctr"))
    copy(parts["runc"] / "runc", root / "usr/local/sbin/runc", 0o755)
    copy(go["crictl"] / "crictl", root / "usr/local/bin/crictl", 0o755)
    for plugin in GO_PARTS["cni-plugins"][3]:
        copy(go["cni-plugins"] / plugin, root / "opt/cni/bin" / plugin, 0o755)
    copy(go["fuse-overlayfs"] / "containerd-fuse-overlayfs-grpc",
         root / "usr/local/bin/containerd-fuse-overlayfs-grpc", 0o755)


def containerd_config(text: str, pause_image: str) -> str:
    """kind's config.toml with the three changes DIFFERENCES names (sandbox image, OOM score clamp, cgroupfs)."""
    changed = re.sub(r'sandbox_image = "[^"]*"', f'sandbox_image = "{pause_image}"', text)
    changed = changed.replace("restrict_oom_score_adj = false", "restrict_oom_score_adj = true")
    systemd = changed.count("SystemdCgroup = true")
    changed = changed.replace("SystemdCgroup = true", "SystemdCgroup = false")
    if (changed.count(pause_image) != 1 or "restrict_oom_score_adj = true" not in changed
            or systemd != 2 or "SystemdCgroup = true" in changed):
        raise PodlabError("kind's containerd config.toml no longer has the lines podlab changes.",
                          hint="Update podlab.cluster.kindnode.containerd_config for this kind release.")
    return changed


def cni_substitute_manifest() -> str:
    """The stand-in for kindnetd's manifest: a DaemonSet that writes a ptp conflist, then sleeps.

    kind templates the manifest ("would you kindly template this file"), as it does kindnetd's.
    kindnetd gives host-local its node's podCIDR; the stand-in has no API access, so it names the
    podCIDR the controller manager gives a one-node cluster's node: the first /24 of kind's
    default pod subnet 10.244.0.0/16 (the local provider's NODE_POD_CIDR too). With the whole /16,
    host-local hands out addresses past the node's /24 once some 250 pods have come and gone.
    """
    conflist = json.dumps({
        "cniVersion": "0.4.0", "name": "kindnet",
        "plugins": [{"type": "ptp", "ipMasq": False,
                     "ipam": {"type": "host-local", "dataDir": "/run/cni-ipam-state",
                              "routes": [{"dst": "0.0.0.0/0"}], "ranges": [[{"subnet": ONE_NODE_POD_CIDR}]]},
                     "mtu": 1500},
                    {"type": "portmap", "capabilities": {"portMappings": True}}]}, indent=2)
    indented = "\n".join("    " + line for line in conflist.splitlines())
    return f"""# podlab's stand-in for kindnetd (not served by the Go module proxy): see podlab.cluster.kindnode.
# would you kindly template this file
apiVersion: v1
kind: ConfigMap
metadata:
  name: {CNI_SUBSTITUTE_NAME}
  namespace: kube-system
data:
  10-kindnet.conflist: |
{indented}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {CNI_SUBSTITUTE_NAME}
  namespace: kube-system
  labels:
    app: {CNI_SUBSTITUTE_NAME}
spec:
  selector:
    matchLabels:
      app: {CNI_SUBSTITUTE_NAME}
  template:
    metadata:
      labels:
        app: {CNI_SUBSTITUTE_NAME}
    spec:
      hostNetwork: true
      nodeSelector:                 # as kindnet's: DaemonSets stay off KWOK's fake nodes (no such label)
        kubernetes.io/os: linux
      tolerations:
        - operator: Exists
      containers:
        - name: install-cni
          image: {LAB_IMAGE}
          imagePullPolicy: IfNotPresent
          command: ["sh", "-c", "cp /config/10-kindnet.conflist /etc/cni/net.d/10-kindnet.conflist.tmp && mv /etc/cni/net.d/10-kindnet.conflist.tmp /etc/cni/net.d/10-kindnet.conflist && exec sleep 2147483647"]
          resources:
            requests: {{cpu: 10m, memory: 10Mi}}
          volumeMounts:
            - {{name: cni-cfg, mountPath: /etc/cni/net.d}}
            - {{name: config, mountPath: /config}}
      volumes:
        - {{name: cni-cfg, hostPath: {{path: /etc/cni/net.d, type: DirectoryOrCreate}}}}
        - {{name: config, configMap: {{name: {CNI_SUBSTITUTE_NAME}}}}}
"""


def helper_image_spec(root: Path) -> images.ImageSpec:
    """local-path-helper as kind stages it (sh -> bash, rm, mkdir, their libraries), from the node's root."""
    wanted = ["usr/bin/bash", "usr/bin/rm", "usr/bin/mkdir"]
    entries = []
    libs = set()
    for rel in wanted:
        out = subprocess.run(["chroot", str(root), "ldd", "/" + rel], capture_output=True, text=True).stdout
        libs.update(re.findall(r"(/\S+\.so[.\d]*)", out))
        entries.append(images.Entry(rel, "file", 0o755, (root / rel).read_bytes()))
    for lib in sorted(libs):
        real = (root / lib.lstrip("/")).resolve()      # /lib and /lib64 are relative links into /usr
        entries.append(images.Entry("usr" + lib if lib.startswith("/lib") else lib.lstrip("/"), "file", 0o755,
                                    real.read_bytes()))
    entries += [images.Entry("usr/bin/sh", "symlink", 0o777, target="bash"),
                images.Entry("bin", "symlink", 0o777, target="usr/bin"),
                images.Entry("lib", "symlink", 0o777, target="usr/lib"),
                images.Entry("lib64", "symlink", 0o777, target="usr/lib64"),
                images.Entry("tmp", "dir", 0o1777)]
    return images.ImageSpec(HELPER_IMAGE, "kind-local-path-helper", tuple(entries),
                            {"Env": [f"PATH={images.DEFAULT_PATH}"]})


def provisioner_image_spec(binary: Path) -> images.ImageSpec:
    """local-path-provisioner as kind's image has it: /usr/local/bin/local-path-provisioner."""
    entries = (images.Entry("usr/local/bin/local-path-provisioner", "file", 0o755, binary.read_bytes()),
               images.Entry("tmp", "dir", 0o1777))
    return images.ImageSpec(PROVISIONER_IMAGE, "kind-local-path-provisioner", entries,
                            {"Entrypoint": ["/usr/local/bin/local-path-provisioner"],
                             "Env": [f"PATH={images.DEFAULT_PATH}"]})


def storage_manifest(kind_dir: Path) -> str:
    """kind's default storage manifest with podlab's provisioner and helper image names."""
    consts = go_constants((kind_dir / "pkg/build/nodeimage/const_storage.go").read_text())
    manifest = consts["defaultStorageManifest"]
    manifest = manifest.replace(consts["storageProvisionerImage"], PROVISIONER_IMAGE)
    return manifest.replace(consts["storageHelperImage"], HELPER_IMAGE)


def preload(root: Path, containerd_dir: Path, archives: list[Path], log: Path) -> None:
    """Import every archive into the root's /var/lib/containerd the way kind's importer does.

    kind starts containerd inside its build container; podlab runs the same containerd binary
    on the host with the image's /var/lib/containerd as its root, on a socket of its own, and
    imports with kind's flags (pinned, all platforms, not unpacked).
    """
    run_dir = Path(tempfile.mkdtemp(prefix="podlab-nodeimage-", dir="/run"))
    config = run_dir / "config.toml"
    socket = run_dir / "containerd.sock"
    disabled = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images",
                # nothing on the host outside the image's root: no /opt/containerd, no NRI socket
                "io.containerd.internal.v1.opt", "io.containerd.nri.v1.nri",
                "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile",
                "io.containerd.snapshotter.v1.erofs"]
    # Only content, images and metadata are needed (kind imports with --no-unpack).
    config.write_text("\n".join([
        "version = 3", f'root = "{root / "var/lib/containerd"}"', f'state = "{run_dir / "state"}"',
        f"disabled_plugins = {json.dumps(disabled)}",
        "[grpc]", f'  address = "{socket}"', "[ttrpc]", f'  address = "{socket}.ttrpc"', ""]))
    with open(log, "a") as out:
        daemon = subprocess.Popen([str(containerd_dir / "containerd"), "--config", str(config)], stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        ctr = [str(containerd_dir / "ctr"), "--address", str(socket), "--namespace=k8s.io"]
        deadline = time.monotonic() + 60
        while subprocess.run([*ctr, "version"], capture_output=True).returncode != 0:
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise PodlabError("the image-loading containerd did not start.", hint=f"Read {log}.")
            time.sleep(0.2)
        for archive in archives:
            with open(archive, "rb") as f:
                run([*ctr, "images", "import", "--label=io.cri-containerd.pinned=pinned", "--all-platforms",
                     "--no-unpack", "--digests", "-"], log=log, what=f"importing {archive.name}", stdin=f)
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        shutil.rmtree(run_dir, ignore_errors=True)


# ---------------------------------------------------------------- the whole image

def inputs_key(kind_dir: Path, parts: dict, go: dict[str, Path], deb_tar: Path) -> str:
    """A hash of everything the image is made of (build directories are keyed by version and module)."""
    files = sorted((str(p.relative_to(kind_dir)), hashlib.sha256(p.read_bytes()).hexdigest())
                   for p in (kind_dir / "images/base/files").rglob("*") if p.is_file())
    consts = [hashlib.sha256((kind_dir / f"pkg/build/nodeimage/{n}").read_bytes()).hexdigest()
              for n in ("const_storage.go", "const_cni.go")]
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    recipe = [FORMAT, KIND_VERSION, source, files, consts, deb_tar.name,
              {k: str(v) for k, v in parts.items() if k != "release"}, {k: str(v) for k, v in go.items()}]
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def image_ref(key: str) -> str:
    return f"{IMAGE_REPO}:{L.DEFAULT_KUBERNETES_VERSION}-{key}"


def prepare() -> dict[str, float]:
    """What the node image needs besides the local provider's builds (kind, its Go parts, debootstrap).

    None of it depends on the local provider, so `make test` builds it beside `podlab up`'s
    Kubernetes build; returns each part's wall time in seconds (near 0 when cached).
    """
    log = paths.cache_dir() / "logs" / "kind-node-image.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    timings = {}
    for what, make in [("debootstrap", lambda: debootstrap_tar(log)), (f"kind {KIND_VERSION}", kind_binary),
                       *((name, lambda name=name: build.build(go_recipe(name))) for name in GO_PARTS)]:
        started = time.monotonic()
        make()
        timings[what] = time.monotonic() - started
    return timings


def build_archive() -> tuple[Path, str]:
    """The node image's root file system as a tar (cached by its inputs) and the image reference."""
    log = paths.cache_dir() / "logs" / "kind-node-image.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    kind_dir = kind_source()
    parts = local_parts()
    go = {name: build.build(go_recipe(name)) for name in GO_PARTS}
    deb_tar = debootstrap_tar(log)
    key = inputs_key(kind_dir, parts, go, deb_tar)
    archive = cache() / f"node-{L.DEFAULT_KUBERNETES_VERSION}-{key}.tar"
    if archive.exists():
        return archive, image_ref(key)
    rel = parts["release"]
    root = Path(tempfile.mkdtemp(prefix="podlab-kind-node-", dir="/var/tmp"))
    try:
        with step("assembling the kind node image's root file system", log=log):
            run(["tar", "-C", str(root), "--numeric-owner", "-xf", str(deb_tar)], log=log, what="unpacking debootstrap")
            files = kind_dir / "images/base/files"
            apply_base(root, files, log)
            apply_build_stage(root, parts, go)
            for name in ("kubeadm", "kubelet", "kubectl"):
                copy(parts["kubernetes"] / name, root / "usr/bin" / name, 0o755)
            (root / "kind/version").write_text(rel.kubernetes)
            (root / "etc/systemd/system/podlab-offline-dns.service").write_text(OFFLINE_DNS_UNIT)
            (root / "usr/local/bin/podlab-offline-dns").write_text(OFFLINE_DNS_SCRIPT)
            (root / "usr/local/bin/podlab-offline-dns").chmod(0o755)
            run(["chroot", str(root), "systemctl", "enable", "podlab-offline-dns.service"], log=log,
                what="systemctl enable podlab-offline-dns")
            pause = f"{images.REGISTRY}/pause:{rel.pause}"
            config = root / "etc/containerd/config.toml"
            config.write_text(containerd_config(config.read_text(), pause))
            manifests = root / "kind/manifests"
            manifests.mkdir(parents=True, exist_ok=True)
            (manifests / "default-cni.yaml").write_text(cni_substitute_manifest())
            (manifests / "default-storage.yaml").write_text(storage_manifest(kind_dir))
            extra = [images.cached_archive(helper_image_spec(root)),
                     images.cached_archive(provisioner_image_spec(go["local-path-provisioner"]
                                                                  / "local-path-provisioner"))]
            # kubeadm's images, pause, busybox (the CNI stand-in runs it); agnhost comes with `kind load`.
            node_images = [p for n, p in parts.items()
                           if n.startswith("image:") and n != f"image:{AGNHOST_IMAGE}"] + extra
            preload(root, parts["containerd"], node_images, log)
            run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(archive) + ".partial", "."], log=log,
                what="archiving the node image")
        os.replace(str(archive) + ".partial", archive)
        for old in cache().glob(f"node-{L.DEFAULT_KUBERNETES_VERSION}-*.tar"):
            if old != archive:
                old.unlink()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return archive, image_ref(key)


# Our engine has no route to the host's resolver (no forwarding, no NAT), and Docker 20.10's
# embedded DNS never answers when its upstream cannot be reached: every lookup in the node then
# waits out the resolver's timeouts (measured: `getent hosts registry-1.docker.io` 20 s in the
# node, 3 ms on the host), so a pull of an image that is not there takes that long to fail, and
# while it runs the kubelet pulls again for every pod of that image (its pull intent). This unit
# makes the node's resolv.conf name the node's own address, where nothing answers on port 53, as
# the local provider does for its node: names outside the cluster fail at once.
OFFLINE_DNS_UNIT = """[Unit]
Description=podlab: names outside the cluster fail at once (offline node, see podlab.cluster.kindnode)
DefaultDependencies=no
Before=containerd.service kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/podlab-offline-dns

[Install]
WantedBy=multi-user.target
"""
OFFLINE_DNS_SCRIPT = """#!/bin/sh
# podlab-offline-dns.service: the node's first IPv4 address as its only name server (nothing answers there).
set -eu
for address in $(hostname -i); do
  case "$address" in
    *.*) printf 'nameserver %s\\noptions ndots:0\\n' "$address" > /etc/resolv.conf; exit 0 ;;
  esac
done
echo "podlab-offline-dns: no IPv4 address in 'hostname -i'" >&2
exit 1
"""


DOCKERFILE = """FROM {base}
ENV container=docker HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
"""


def ensure_image(docker: str = "docker") -> str:
    """The node image in the Docker engine (imported from the cached archive if missing)."""
    archive, ref = build_archive()
    if subprocess.run([docker, "image", "inspect", ref], capture_output=True).returncode == 0:
        return ref
    log = paths.cache_dir() / "logs" / "kind-node-image.log"
    base = ref.replace(IMAGE_REPO, IMAGE_REPO + "-rootfs")
    with step(f"importing {ref} into Docker", log=log):
        with open(archive, "rb") as f:
            run([docker, "import", "-", base], log=log, what="docker import", stdin=f)
        context = Path(tempfile.mkdtemp(prefix="podlab-kind-node-context-"))
        try:
            (context / "Dockerfile").write_text(DOCKERFILE.format(base=base))
            run([docker, "build", "-q", "-t", ref, str(context)], log=log, what="docker build (metadata)",
                env={**os.environ, "DOCKER_BUILDKIT": "0"})
        finally:
            shutil.rmtree(context, ignore_errors=True)
        run([docker, "rmi", base], log=log, what="docker rmi")
    return ref
