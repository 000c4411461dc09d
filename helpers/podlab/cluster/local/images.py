"""Build the images local pods run, as OCI archives containerd can import.

There is no registry and no Docker here, so every image a pod uses is assembled from
files already on the machine (Debian's static busybox, a pause binary compiled from
``pause/pause.c``, optionally CoreDNS built from the Go module proxy) and written as an
OCI image layout in a tar. The same inputs always give the same bytes, so an archive
is cached under ``cache_dir()/images`` by a hash of everything that goes into it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from podlab import progress
from podlab.errors import PodlabError
from podlab.images import AGNHOST_IMAGE, LAB_IMAGE

# The images lab pods run (the rest are the cluster's own, present whenever it runs).
LAB_IMAGES = (LAB_IMAGE, AGNHOST_IMAGE)
from podlab.paths import cache_dir

# Bump when the archive layout changes, so cached archives are rebuilt.
FORMAT_VERSION = "1"
ARCH = "amd64"
OS = "linux"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX = Path("/bin/busybox")
REGISTRY = "registry.k8s.io"
PAUSE_SOURCE_DIR = Path(__file__).parent / "pause"
GCC_FLAGS = ("-Os", "-static", "-s", "-std=c11", "-D_POSIX_C_SOURCE=200809L",
             "-Wall", "-Wextra", "-Werror")


MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"

ETC_PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
ETC_GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:8:
www-data:x:33:
operator:x:37:
users:x:100:
nogroup:x:65534:
"""
# busybox-static links glibc, which reads this to resolve names (files first, then DNS).
ETC_NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n"


@dataclass(frozen=True)
class Entry:
    """One file system entry of an image layer."""

    path: str                   # relative to /, e.g. "bin/sh"
    kind: str                   # "dir", "file" or "symlink"
    mode: int
    data: bytes = b""
    target: str = ""

    def fingerprint(self) -> list:
        """What identifies this entry's content in a cache key."""
        return [self.path, self.kind, self.mode, hashlib.sha256(self.data).hexdigest(), self.target]


@dataclass(frozen=True)
class ImageSpec:
    """Everything an image archive is made from."""

    name: str                   # full reference, e.g. docker.io/library/busybox:1.35.0
    cache_name: str             # file name stem in the cache, e.g. "lab"
    entries: tuple[Entry, ...]
    run_config: dict = field(default_factory=dict)  # the OCI config's "config" object

    def key(self) -> str:
        """A hash of every input, naming the cached archive."""
        recipe = [FORMAT_VERSION, self.name, self.run_config, [e.fingerprint() for e in self.entries]]
        return hashlib.sha256(canonical_json(recipe)).hexdigest()[:16]


# ---------------------------------------------------------------- small helpers

def canonical_json(value: object) -> bytes:
    """JSON with sorted keys and no spaces, so equal values give equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def sha256_digest(data: bytes) -> str:
    """The OCI digest string of some bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def images_dir() -> Path:
    """Where built image archives are cached."""
    return cache_dir() / "images"


def logs_dir() -> Path:
    """Where build logs go."""
    path = cache_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def tail(text: str, lines: int = 15) -> str:
    """The last lines of some output, indented for an error message."""
    kept = text.strip().splitlines()[-lines:]
    return "\n".join("    " + line for line in kept)


def run_logged(cmd: list[str], *, log: Path, what: str, hint: str,
               cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    """Run a build command with its output in `log`; raise PodlabError on failure."""
    with open(log, "w") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        try:
            result = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        except OSError as exc:
            raise PodlabError(f"{what} failed: cannot run {cmd[0]}: {exc}", hint=hint) from exc
    if result.returncode != 0:
        raise PodlabError(
            f"{what} failed (exit {result.returncode}): {' '.join(cmd)}\n{tail(log.read_text())}",
            hint=f"{hint} Full log: {log}")


def is_static_elf(path: Path) -> bool:
    """True if `path` is an ELF executable without a dynamic loader (PT_INTERP)."""
    with open(path, "rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2:       # 64-bit only
            return False
        phoff, = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(struct.unpack_from("<I", table, i * phentsize)[0] != 3 for i in range(phnum))


def write_atomically(dest: Path, data: bytes | None = None, *, source: Path | None = None) -> None:
    """Write bytes (or move a file) to `dest` so readers never see a partial file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    if source is not None:
        shutil.move(str(source), tmp)
    else:
        tmp.write_bytes(data or b"")
    os.replace(tmp, dest)


# ---------------------------------------------------------------- tar writing

def tar_info(entry: Entry) -> tarfile.TarInfo:
    """A TarInfo with fixed owner and time, so the archive is reproducible."""
    info = tarfile.TarInfo(entry.path)
    info.mode = entry.mode
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
    elif entry.kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = entry.target
    elif entry.kind == "file":
        info.size = len(entry.data)
    else:
        raise ValueError(f"unknown entry kind {entry.kind!r} for {entry.path}")
    return info


def tar_bytes(entries: list[Entry]) -> bytes:
    """An uncompressed tar of `entries`, sorted by path, byte-identical for equal input."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(entries, key=lambda e: e.path.split("/")):
            data = io.BytesIO(entry.data) if entry.kind == "file" else None
            tar.addfile(tar_info(entry), data)
    return buffer.getvalue()


def with_parent_dirs(entries: list[Entry]) -> list[Entry]:
    """The entries plus a 0755 directory entry for any parent not listed."""
    listed = {e.path for e in entries}
    extra: dict[str, Entry] = {}
    for entry in entries:
        parts = entry.path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            if parent not in listed and parent not in extra:
                extra[parent] = Entry(parent, "dir", 0o755)
    return list(entries) + list(extra.values())


# ---------------------------------------------------------------- OCI layout

def oci_blobs(spec: ImageSpec) -> tuple[dict[str, bytes], dict]:
    """The layer, config and manifest blobs (by digest) and the index for `spec`."""
    layer = tar_bytes(with_parent_dirs(list(spec.entries)))
    layer_digest = sha256_digest(layer)
    config = canonical_json({
        "architecture": ARCH,
        "os": OS,
        "config": spec.run_config,
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "podlab local image builder", "comment": spec.cache_name}],
    })
    manifest = canonical_json({
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": sha256_digest(config), "size": len(config)},
        "layers": [{"mediaType": MEDIA_LAYER, "digest": layer_digest, "size": len(layer)}],
    })
    tag = spec.name.rsplit(":", 1)[1] if ":" in spec.name.rsplit("/", 1)[-1] else "latest"
    index = {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [{
            "mediaType": MEDIA_MANIFEST,
            "digest": sha256_digest(manifest),
            "size": len(manifest),
            "platform": {"architecture": ARCH, "os": OS},
            "annotations": {
                "io.containerd.image.name": spec.name,
                "org.opencontainers.image.ref.name": tag,
            },
        }],
    }
    blobs = {sha256_digest(b): b for b in (layer, config, manifest)}
    return blobs, index


def oci_archive_bytes(spec: ImageSpec) -> bytes:
    """The OCI image layout of `spec` as one tar."""
    blobs, index = oci_blobs(spec)
    entries = [Entry("blobs", "dir", 0o755), Entry("blobs/sha256", "dir", 0o755),
               Entry("oci-layout", "file", 0o644, canonical_json({"imageLayoutVersion": "1.0.0"})),
               Entry("index.json", "file", 0o644, canonical_json(index))]
    entries += [Entry(f"blobs/sha256/{d.split(':', 1)[1]}", "file", 0o644, b) for d, b in blobs.items()]
    return tar_bytes(entries)


def write_oci_archive(spec: ImageSpec, dest: Path) -> None:
    """Write the OCI archive of `spec` to `dest`."""
    write_atomically(dest, oci_archive_bytes(spec))


def remove_stale(directory: Path, stem: str, keep: Path) -> None:
    """Delete older cached archives `<stem>-<key>.tar` other than `keep`."""
    for old in directory.glob(f"{stem}-*.tar"):
        if old != keep and old.is_file():
            old.unlink()


def cached_archive(spec: ImageSpec) -> Path:
    """The archive for `spec` from the cache, building it first if missing."""
    directory = images_dir()
    dest = directory / f"{spec.cache_name}-{spec.key()}.tar"
    if not dest.is_file():
        with progress.step(f"building image {spec.name}"):
            write_oci_archive(spec, dest)
        remove_stale(directory, spec.cache_name, dest)
    return dest


def point_link(link: Path, target: Path) -> None:
    """Make `link` a relative symlink to `target` (a sibling), replacing what was there."""
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target.name)
    os.replace(tmp, link)


# ---------------------------------------------------------------- lab image

def busybox_applets(busybox: Path) -> list[str]:
    """The applet names `busybox --list` prints (without "busybox" itself)."""
    try:
        out = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise PodlabError(f"cannot list the applets of {busybox}: {exc}",
                          hint="Install Debian's static busybox: apt-get install busybox-static") from exc
    return sorted({name for name in out.split() if name and name != "busybox" and "/" not in name})


def lab_image_spec(busybox: Path = BUSYBOX) -> ImageSpec:
    """The lab image: static busybox, a symlink per applet in /bin, minimal /etc."""
    if not busybox.is_file() or not is_static_elf(busybox):
        raise PodlabError(f"{busybox} is missing or not a statically linked busybox",
                          hint="Install Debian's static busybox: apt-get install busybox-static")
    entries = [Entry(d, "dir", 0o755) for d in
               ("bin", "dev", "etc", "home", "usr", "usr/sbin", "var", "var/spool", "var/spool/mail", "var/www")]
    entries += [Entry("root", "dir", 0o700), Entry("tmp", "dir", 0o1777),
                Entry("bin/busybox", "file", 0o755, busybox.read_bytes()),
                Entry("etc/passwd", "file", 0o644, ETC_PASSWD.encode()),
                Entry("etc/group", "file", 0o644, ETC_GROUP.encode()),
                Entry("etc/nsswitch.conf", "file", 0o644, ETC_NSSWITCH.encode())]
    entries += [Entry(f"bin/{name}", "symlink", 0o777, target="busybox") for name in busybox_applets(busybox)]
    run_config = {"Cmd": ["sh"], "Env": [f"PATH={DEFAULT_PATH}"]}
    return ImageSpec(LAB_IMAGE, "lab", tuple(entries), run_config)


def build_lab_image(busybox: Path = BUSYBOX) -> Path:
    """The lab image archive (cached); also kept as images/lab.tar for the kind provider."""
    archive = cached_archive(lab_image_spec(busybox))
    point_link(archive.parent / "lab.tar", archive)
    return archive


# ---------------------------------------------------------------- pause image

def pause_binary_key(source: Path, compiler: str, version: str) -> str:
    """A hash of the pause source, the compiler's version and the flags."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout
    recipe = [source.read_bytes().hex(), version.splitlines()[:1], GCC_FLAGS, version]
    return hashlib.sha256(canonical_json(recipe)).hexdigest()[:16]


def compile_pause_c(out: Path, log: Path, version: str) -> None:
    """Compile pause.c into a static binary at `out` with gcc."""
    cmd = ["gcc", *GCC_FLAGS, f'-DPAUSE_VERSION="{version}"', "-o", str(out),
           str(PAUSE_SOURCE_DIR / "pause.c")]
    run_logged(cmd, log=log, what="compiling pause.c",
               hint="Install gcc and libc6-dev (static libc.a): apt-get install gcc libc6-dev.")


def compile_pause_go(out: Path, log: Path) -> None:
    """Build the Go fallback pause.go into a static binary at `out`."""
    env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local", GOFLAGS="-trimpath -buildvcs=false")
    cmd = [go_binary(), "build", "-ldflags=-s -w", "-o", str(out), str(PAUSE_SOURCE_DIR / "pause.go")]
    run_logged(cmd, log=log, env=env, what="building pause.go", hint="Check that Go is installed (go version).")


def build_pause_binary(version: str, *, use_go: bool = False) -> Path:
    """A static pause binary (cached), from pause.c with gcc, or pause.go if gcc cannot link it."""
    gcc = shutil.which("gcc")
    if use_go or gcc is None:
        return build_pause_binary_with_go(version)
    out = cache_dir() / "bin" / f"pause-{pause_binary_key(PAUSE_SOURCE_DIR / 'pause.c', gcc, version)}" / "pause"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    log = logs_dir() / "pause-build.log"
    try:
        with progress.step("compiling pause (gcc -static)", log=log):
            compile_pause_c(out.with_name("pause.tmp"), log, version)
    except PodlabError:
        shutil.rmtree(out.parent, ignore_errors=True)
        return build_pause_binary_with_go(version)
    os.replace(out.with_name("pause.tmp"), out)
    return out


def build_pause_binary_with_go(version: str) -> Path:
    """The pause binary from pause.go (CGO_ENABLED=0), cached by source, Go version and pause version."""
    go = go_binary()
    go_version = subprocess.run([go, "version"], capture_output=True, text=True).stdout
    key = hashlib.sha256(canonical_json([(PAUSE_SOURCE_DIR / "pause.go").read_bytes().hex(), go_version, version]))
    out = cache_dir() / "bin" / f"pause-go-{key.hexdigest()[:16]}" / "pause"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    log = logs_dir() / "pause-build.log"
    with progress.step("building pause (go, CGO_ENABLED=0)", log=log):
        compile_pause_go(out.with_name("pause.tmp"), log)
    os.replace(out.with_name("pause.tmp"), out)
    return out


def pause_image_spec(binary: Path, version: str) -> ImageSpec:
    """The pod sandbox image: /pause as entrypoint, running as 65535:65535."""
    entries = (Entry("pause", "file", 0o755, binary.read_bytes()),)
    run_config = {"Entrypoint": ["/pause"], "User": "65535:65535", "Env": [f"PATH={DEFAULT_PATH}"]}
    return ImageSpec(f"{REGISTRY}/pause:{version}", f"pause-{version}", entries, run_config)


def build_pause_image() -> Path:
    """The pause image archive (cached)."""
    return cached_archive(pause_image_spec(build_pause_binary()))


# ---------------------------------------------------------------- Go-built images

def go_binary() -> str:
    """The go command to use."""
    found = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if found is None:
        raise PodlabError("the Go toolchain is not installed", hint="Install Go (https://go.dev/dl/) and retry.")
    return found


def coredns_image_spec(binary: Path, version: str) -> ImageSpec:
    """The cluster DNS image: /coredns as entrypoint, as upstream's image has it."""
    entries = (Entry("coredns", "file", 0o755, binary.read_bytes()),)
    return ImageSpec(f"{REGISTRY}/coredns/coredns:{version}", f"coredns-{version}", entries, {"Entrypoint": ["/coredns"]})


def command_image_spec(name: str, tag: str, binaries: dict[str, Path], extra: tuple[Entry, ...] = ()) -> ImageSpec:
    """An image with binaries in /usr/local/bin (kubeadm's static pods name the command)."""
    entries = [Entry("tmp", "dir", 0o1777), Entry("etc/passwd", "file", 0o644, ETC_PASSWD.encode()),
               Entry("etc/group", "file", 0o644, ETC_GROUP.encode())]
    entries += [Entry(f"usr/local/bin/{n}", "file", 0o755, p.read_bytes()) for n, p in binaries.items()]
    first = next(iter(binaries))
    run_config = {"Entrypoint": [f"/usr/local/bin/{first}"], "Env": [f"PATH={DEFAULT_PATH}"]}
    return ImageSpec(f"{REGISTRY}/{name}:{tag}", f"{name}-{tag}", tuple(entries) + extra, run_config)


# What upstream's agnhost image (test/images/agnhost/Dockerfile) carries that the book and
# upstream's own examples use, taken from this host's Debian packages: bash and curl (dynamic,
# with their libraries), busybox for sh, cat, id, env and the other applets alpine's busybox has.
AGNHOST_TOOLS = {"bin/bash": Path("/bin/bash"), "usr/bin/curl": Path("/usr/bin/curl")}
# The porter files the Dockerfile ADDs at / (netexec's and porter's --tls-* examples use them).
AGNHOST_SOURCE_FILES = ("porter/localhost.crt", "porter/localhost.key")
# The ports the Dockerfile EXPOSEs.
AGNHOST_PORTS = (80, 8080, 8081, 9376, 5000)
# The user and group the Dockerfile adds (an e2e test of SupplementalGroups uses them).
AGNHOST_PASSWD = "user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh\n"
AGNHOST_GROUP = "user-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n"


def agnhost_image_spec(binary: Path, source: Path, busybox: Path = BUSYBOX) -> ImageSpec:
    """agnhost as upstream's image runs it (/agnhost, `pause` by default), with its shell tools and TLS files.

    `source` is the release's test/images/agnhost directory.
    """
    missing = [str(p) for p in AGNHOST_TOOLS.values() if not p.is_file()]
    if missing or not busybox.is_file() or not is_static_elf(busybox):
        raise PodlabError(f"agnhost's image needs {', '.join(missing) or busybox} from this host",
                          hint="apt-get install bash curl busybox-static")
    files = [source / name for name in AGNHOST_SOURCE_FILES]
    absent = [str(f) for f in files if not f.is_file()]
    if absent:
        raise PodlabError(f"agnhost's source lacks {', '.join(absent)}",
                          hint="Remove the Kubernetes module from Go's cache (go clean -modcache) and rerun.")
    entries = [Entry("agnhost", "file", 0o755, binary.read_bytes()),
               Entry("agnhost-2", "symlink", 0o777, target="agnhost"),
               Entry("tmp", "dir", 0o1777), Entry("uploads", "dir", 0o755), Entry("root", "dir", 0o700),
               Entry("etc/passwd", "file", 0o644, (ETC_PASSWD + AGNHOST_PASSWD).encode()),
               Entry("etc/group", "file", 0o644, (ETC_GROUP + AGNHOST_GROUP).encode()),
               Entry("etc/nsswitch.conf", "file", 0o644, ETC_NSSWITCH.encode()),
               Entry("bin/busybox", "file", 0o755, busybox.read_bytes()),
               Entry("usr/bin/env", "symlink", 0o777, target="/bin/busybox")]
    entries += [Entry(f.name, "file", 0o644, f.read_bytes()) for f in files]
    entries += [Entry(path, "file", 0o755, host.read_bytes()) for path, host in AGNHOST_TOOLS.items()]
    entries += [Entry(f"bin/{name}", "symlink", 0o777, target="busybox")
                for name in busybox_applets(busybox) if f"bin/{name}" not in AGNHOST_TOOLS]
    entries += dynamic_runtime(list(AGNHOST_TOOLS.values()))
    tag = AGNHOST_IMAGE.rsplit(":", 1)[1]
    run_config = {"Entrypoint": ["/agnhost"], "Cmd": ["pause"], "Env": [f"PATH={DEFAULT_PATH}"],
                  "ExposedPorts": {f"{port}/tcp": {} for port in AGNHOST_PORTS}}
    return ImageSpec(AGNHOST_IMAGE, f"agnhost-{tag}", tuple(entries), run_config)


def etcd_image_spec(etcd_dir: Path, tag: str) -> ImageSpec:
    """etcd and etcdctl, as registry.k8s.io/etcd (kubeadm runs `etcd` with its flags)."""
    spec = command_image_spec("etcd", tag, {"etcd": etcd_dir / "etcd", "etcdctl": etcd_dir / "etcdctl"})
    return ImageSpec(spec.name, spec.cache_name, spec.entries, {"Env": spec.run_config["Env"]})


# ---------------------------------------------------------------- kube-proxy's userland

LIBDIR = "usr/lib/x86_64-linux-gnu"
XTABLES_DIR = Path("/usr/lib/x86_64-linux-gnu/xtables")
IPTABLES_COMMANDS = ("iptables", "iptables-save", "iptables-restore",
                     "ip6tables", "ip6tables-save", "ip6tables-restore")


def host_iptables_mode() -> str:
    """"nft" or "legacy": the backend the host's iptables uses (kubelet and kube-proxy must agree)."""
    try:
        out = subprocess.run(["iptables", "--version"], capture_output=True, text=True).stdout
    except OSError as exc:
        raise PodlabError("iptables is not installed", hint="apt-get install iptables") from exc
    return "nft" if "nf_tables" in out else "legacy"


def shared_libraries(elf_files: list[Path]) -> dict[str, Path]:
    """The shared libraries (by soname) the dynamic loader resolves for `elf_files`, per ldd."""
    found: dict[str, Path] = {}
    for path in elf_files:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout
        for line in out.splitlines():
            words = line.split()
            if "=>" in words and len(words) >= 3 and words[2].startswith("/"):
                found[words[0]] = Path(words[2])
            elif "=>" in words and "not found" in line:
                raise PodlabError(f"{path} needs {words[0]}, which this host lacks (ldd: not found)",
                                  hint=f"Reinstall the package that owns {path} (dpkg -S {path}).")
            elif words and words[0].startswith("/"):
                found[Path(words[0]).name] = Path(words[0])
    return found


def dynamic_runtime(elf_files: list[Path]) -> list[Entry]:
    """The libraries `elf_files` load (per ldd) in LIBDIR, and the dynamic loader where they look for it."""
    entries = [Entry(f"{LIBDIR}/{soname}", "file", 0o755, path.resolve().read_bytes())
               for soname, path in sorted(shared_libraries(elf_files).items())]
    # Debian's merged /usr: /lib is /usr/lib, and the loader is found at /lib64/ld-linux-x86-64.so.2.
    return entries + [Entry("lib", "symlink", 0o777, target="usr/lib"),
                      Entry("lib64", "dir", 0o755),
                      Entry("lib64/ld-linux-x86-64.so.2", "symlink", 0o777,
                            target=f"/{LIBDIR}/ld-linux-x86-64.so.2")]


def iptables_userland(mode: str) -> tuple[Entry, ...]:
    """iptables (both backends), nft and conntrack from the host's Debian packages, with their libraries.

    `iptables` and friends point at the backend the host uses, so the rules kube-proxy writes
    from its container are the ones the host's kubelet and `podlab down` see.
    """
    tools = {"xtables-nft-multi": Path("/usr/sbin/xtables-nft-multi"),
             "xtables-legacy-multi": Path("/usr/sbin/xtables-legacy-multi"),
             "nft": Path("/usr/sbin/nft"), "conntrack": Path("/usr/sbin/conntrack")}
    missing = [str(p) for p in tools.values() if not p.is_file()]
    if missing or not XTABLES_DIR.is_dir():
        raise PodlabError(f"kube-proxy's image needs {', '.join(missing) or XTABLES_DIR}",
                          hint="apt-get install iptables nftables conntrack")
    modules = sorted(XTABLES_DIR.glob("*.so"))
    entries = [Entry(f"usr/sbin/{n}", "file", 0o755, p.read_bytes()) for n, p in tools.items()]
    multi = f"xtables-{mode}-multi"
    for command in IPTABLES_COMMANDS:
        entries.append(Entry(f"usr/sbin/{command}", "symlink", 0o777, target=multi))
        for backend in ("nft", "legacy"):
            entries.append(Entry(f"usr/sbin/{command.replace('tables', 'tables-' + backend, 1)}", "symlink", 0o777,
                                 target=f"xtables-{backend}-multi"))
    entries += [Entry(f"{LIBDIR}/xtables/{m.name}", "file", 0o644, m.read_bytes()) for m in modules]
    entries += dynamic_runtime(list(tools.values()) + modules)
    entries += [Entry("run", "dir", 0o755), Entry("var/lib", "dir", 0o755)]
    return tuple(entries)


def kube_proxy_image_spec(binary: Path, tag: str) -> ImageSpec:
    """kube-proxy with the iptables/nftables userland it runs."""
    return command_image_spec("kube-proxy", tag, {"kube-proxy": binary},
                              iptables_userland(host_iptables_mode()))


# ---------------------------------------------------------------- a release's images

def agnhost_source(version: str) -> Path:
    """The release's test/images/agnhost directory, from Go's module cache (agnhost is built from it)."""
    from podlab.cluster.local import build

    return build.module_source("k8s.io/kubernetes", version) / "test" / "images" / "agnhost"


def image_specs(release, bins: dict[str, Path]) -> list[ImageSpec]:
    """Every image a kubeadm cluster of `release` runs, built from `bins` (build dir per component)."""
    k8s = bins["kubernetes"]
    specs = [lab_image_spec(), pause_image_spec(build_pause_binary(release.pause), release.pause),
             coredns_image_spec(bins["coredns"] / "coredns", release.coredns),
             etcd_image_spec(bins["etcd"], release.etcd)]
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        specs.append(command_image_spec(name, release.kubernetes, {name: k8s / name}))
    specs.append(kube_proxy_image_spec(k8s / "kube-proxy", release.kubernetes))
    specs.append(agnhost_image_spec(bins["agnhost"] / "agnhost", agnhost_source(release.kubernetes)))
    return specs


def ensure_images(release, bins: dict[str, Path]) -> dict[str, Path]:
    """Build the missing image archives of `release`; return them by image name."""
    archives = {spec.name: cached_archive(spec) for spec in image_specs(release, bins)}
    point_link(images_dir() / "lab.tar", archives[LAB_IMAGE])
    return archives


def import_command(tar: Path, *, address: str, ctr: Path | str = "ctr", namespace: str = "k8s.io") -> list[str]:
    """The ctr command that imports (and unpacks) an archive into containerd."""
    return [str(ctr), "--address", address, "-n", namespace, "images", "import",
            "--platform", f"{OS}/{ARCH}", str(tar)]


def import_image(tar: Path, *, address: str, ctr: Path | str = "ctr", namespace: str = "k8s.io") -> None:
    """Import an image archive into the containerd at `address` (unpacked for overlayfs)."""
    cmd = import_command(tar, address=address, ctr=ctr, namespace=namespace)
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PodlabError(f"importing {tar.name} failed: {' '.join(cmd)}: {exc}",
                          hint="Check that ctr is installed and containerd answers on " + address) from exc
    if result.returncode != 0:
        raise PodlabError(
            f"importing {tar.name} failed (exit {result.returncode}): {' '.join(cmd)}\n"
            f"{tail(result.stderr or result.stdout)}",
            hint=f"Check that containerd is running at {address} (ctr --address {address} version); "
                 f"if the archive is damaged, delete it and rerun to rebuild it.")


def present_images(*, address: str, ctr: Path | str = "ctr", namespace: str = "k8s.io") -> set[str]:
    """The image names containerd at `address` holds (empty if it cannot be asked)."""
    try:
        result = subprocess.run([str(ctr), "--address", address, "-n", namespace, "images", "ls", "-q"],
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return set(result.stdout.split()) if result.returncode == 0 else set()


def image_digests(*, address: str, ctr: Path | str = "ctr", namespace: str = "k8s.io") -> dict[str, str]:
    """The images containerd at `address` holds, name -> manifest digest (empty if it cannot be asked)."""
    try:
        result = subprocess.run([str(ctr), "--address", address, "-n", namespace, "images", "ls"],
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if result.returncode != 0:
        return {}
    rows = [line.split() for line in result.stdout.splitlines()[1:]]   # REF TYPE DIGEST SIZE ...
    return {row[0]: row[2] for row in rows if len(row) >= 3 and row[2].startswith("sha256:")}


def archive_digest(tar: Path) -> str:
    """The manifest digest an OCI archive's index names (what containerd holds once it is imported)."""
    with tarfile.open(tar) as archive:
        member = archive.extractfile("index.json")
        index = json.loads(member.read()) if member else {}
    return index["manifests"][0]["digest"]


def import_images(tars: list[Path], *, address: str, ctr: Path | str = "ctr", namespace: str = "k8s.io") -> None:
    """Import several archives at once (about twice as fast as one after another on 2 cores)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(tars) or 1) as pool:
        for done in [pool.submit(import_image, t, address=address, ctr=ctr, namespace=namespace) for t in tars]:
            done.result()
