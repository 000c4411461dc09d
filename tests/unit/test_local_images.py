"""The local provider's image builder: reproducible OCI archives, cache, pause binary."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from podlab.cluster.local import images
from podlab.errors import PodlabError
from podlab.images import LAB_IMAGE

PAUSE_VERSION = "3.10.2"

needs_busybox = pytest.mark.skipif(not Path("/bin/busybox").is_file(), reason="busybox-static not installed")
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test builds into its own cache directory."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PODLAB_CACHE", str(cache))
    return cache


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_members(archive: bytes) -> dict[str, bytes]:
    """Regular files of a tar by name."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def layer_of(archive: bytes) -> tarfile.TarFile:
    """The single layer of an OCI archive, opened."""
    files = read_members(archive)
    index = json.loads(files["index.json"])
    manifest = json.loads(files["blobs/sha256/" + index["manifests"][0]["digest"].split(":")[1]])
    layer = files["blobs/sha256/" + manifest["layers"][0]["digest"].split(":")[1]]
    return tarfile.open(fileobj=io.BytesIO(layer))


def small_spec() -> images.ImageSpec:
    entries = (images.Entry("app/run", "file", 0o755, b"#!/bin/sh\necho hi\n"),
               images.Entry("app/link", "symlink", 0o777, target="run"),
               images.Entry("tmp", "dir", 0o1777))
    return images.ImageSpec("example.invalid/demo:1.0", "demo", entries, {"Cmd": ["/app/run"]})


# ---------------------------------------------------------------- archive format

def test_same_spec_gives_identical_bytes() -> None:
    assert images.oci_archive_bytes(small_spec()) == images.oci_archive_bytes(small_spec())


def test_entry_order_does_not_change_the_archive() -> None:
    spec = small_spec()
    reordered = images.ImageSpec(spec.name, spec.cache_name, tuple(reversed(spec.entries)), spec.run_config)
    assert images.oci_archive_bytes(spec) == images.oci_archive_bytes(reordered)


def test_archive_is_a_consistent_oci_layout() -> None:
    files = read_members(images.oci_archive_bytes(small_spec()))
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1], name

    index = json.loads(files["index.json"])
    assert index["schemaVersion"] == 2 and len(index["manifests"]) == 1
    entry = index["manifests"][0]
    assert entry["annotations"] == {"io.containerd.image.name": "example.invalid/demo:1.0",
                                    "org.opencontainers.image.ref.name": "1.0"}
    assert entry["platform"] == {"architecture": "amd64", "os": "linux"}
    manifest_bytes = files["blobs/sha256/" + entry["digest"].split(":")[1]]
    assert entry["size"] == len(manifest_bytes)

    manifest = json.loads(manifest_bytes)
    assert manifest["mediaType"] == images.MEDIA_MANIFEST
    config_bytes = files["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]]
    assert manifest["config"]["size"] == len(config_bytes)
    (layer_desc,) = manifest["layers"]
    assert layer_desc["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    assert layer_desc["size"] == len(files["blobs/sha256/" + layer_desc["digest"].split(":")[1]])

    config = json.loads(config_bytes)
    assert (config["architecture"], config["os"]) == ("amd64", "linux")
    assert config["rootfs"] == {"type": "layers", "diff_ids": [layer_desc["digest"]]}
    assert config["config"] == {"Cmd": ["/app/run"]}


def test_layer_adds_missing_parent_directories_with_fixed_metadata() -> None:
    with layer_of(images.oci_archive_bytes(small_spec())) as layer:
        members = {m.name: m for m in layer.getmembers()}
    assert members["app"].isdir() and members["app"].mode == 0o755
    assert members["tmp"].mode == 0o1777
    assert members["app/link"].issym() and members["app/link"].linkname == "run"
    assert all((m.uid, m.gid, m.mtime, m.uname) == (0, 0, 0, "") for m in members.values())
    assert list(members) == sorted(members, key=lambda n: n.split("/"))


def test_name_without_tag_is_annotated_latest() -> None:
    spec = images.ImageSpec("localhost:5000/demo", "demo", small_spec().entries)
    index = json.loads(read_members(images.oci_archive_bytes(spec))["index.json"])
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "latest"


# ---------------------------------------------------------------- lab image

@needs_busybox
def test_lab_image_builds_byte_identical_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = images.build_lab_image()
    monkeypatch.setenv("PODLAB_CACHE", str(tmp_path / "other-cache"))
    second = images.build_lab_image()
    assert first != second
    assert sha256_file(first) == sha256_file(second)


@needs_busybox
def test_lab_layer_has_busybox_applet_links_and_etc() -> None:
    spec = images.lab_image_spec()
    assert spec.name == LAB_IMAGE
    with layer_of(images.oci_archive_bytes(spec)) as layer:
        members = {m.name: m for m in layer.getmembers()}
        passwd = layer.extractfile("etc/passwd").read().decode()
        busybox = layer.extractfile("bin/busybox").read()
    assert busybox == Path("/bin/busybox").read_bytes()
    assert members["bin/busybox"].mode == 0o755
    for applet in ("sh", "httpd", "nc", "nslookup", "wget", "hostname", "cat", "sleep", "touch"):
        assert members[f"bin/{applet}"].issym(), applet
        assert members[f"bin/{applet}"].linkname == "busybox"
    assert "bin/busybox" in members and not members["bin/busybox"].issym()
    assert members["tmp"].mode == 0o1777 and members["root"].mode == 0o700
    assert "root:x:0:0:" in passwd and "nobody:x:65534:65534:" in passwd
    assert spec.run_config["Cmd"] == ["sh"]
    assert any(e.startswith("PATH=") and "/bin" in e for e in spec.run_config["Env"])


@needs_busybox
def test_lab_image_is_reused_from_cache(monkeypatch: pytest.MonkeyPatch, private_cache: Path) -> None:
    first = images.build_lab_image()
    mtime = first.stat().st_mtime_ns
    writes = []
    monkeypatch.setattr(images, "write_oci_archive", lambda spec, dest: writes.append(dest))
    second = images.build_lab_image()
    assert second == first and writes == []
    assert first.stat().st_mtime_ns == mtime
    stable = private_cache / "images" / "lab.tar"
    assert stable.is_symlink() and stable.resolve() == first.resolve()


@needs_busybox
def test_changed_busybox_changes_the_cache_key(tmp_path: Path) -> None:
    changed = tmp_path / "busybox"
    changed.write_bytes(Path("/bin/busybox").read_bytes() + b"\0")
    changed.chmod(0o755)
    original = images.build_lab_image()
    rebuilt = images.build_lab_image(changed)
    assert rebuilt.name != original.name
    assert not original.exists(), "the stale archive should be removed"
    assert (rebuilt.parent / "lab.tar").resolve() == rebuilt.resolve()


def test_dynamic_busybox_is_refused(tmp_path: Path) -> None:
    dynamic = tmp_path / "busybox"
    shutil.copy("/bin/ls", dynamic)
    with pytest.raises(PodlabError, match="not a statically linked busybox") as err:
        images.lab_image_spec(dynamic)
    assert "busybox-static" in (err.value.hint or "")


def test_static_elf_detection() -> None:
    assert not images.is_static_elf(Path("/bin/ls"))
    if Path("/bin/busybox").is_file():
        assert images.is_static_elf(Path("/bin/busybox"))


# ---------------------------------------------------------------- pause

def running_pause(binary: Path) -> subprocess.Popen:
    """Start pause and wait until it has installed its signal handlers (it then warns on stderr)."""
    proc = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert b"not running as PID 1" in proc.stderr.readline()
    return proc


@needs_gcc
def test_pause_binary_is_static_and_prints_version() -> None:
    binary = images.build_pause_binary(PAUSE_VERSION)
    assert images.is_static_elf(binary)
    result = subprocess.run([str(binary), "-v"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0
    assert result.stdout.strip().endswith(PAUSE_VERSION)


@needs_gcc
@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_pause_exits_zero_on_stop_signals(signo: int) -> None:
    proc = running_pause(images.build_pause_binary(PAUSE_VERSION))
    proc.send_signal(signo)
    assert proc.wait(timeout=10) == 0


@needs_gcc
def test_pause_keeps_running_on_sigchld() -> None:
    proc = running_pause(images.build_pause_binary(PAUSE_VERSION))
    proc.send_signal(signal.SIGCHLD)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=0.3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


@needs_gcc
def test_pause_binary_is_cached_and_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = images.build_pause_binary(PAUSE_VERSION)
    mtime = first.stat().st_mtime_ns
    assert images.build_pause_binary(PAUSE_VERSION) == first and first.stat().st_mtime_ns == mtime
    monkeypatch.setenv("PODLAB_CACHE", str(tmp_path / "other-cache"))
    assert sha256_file(images.build_pause_binary(PAUSE_VERSION)) == sha256_file(first)


@pytest.mark.skipif(shutil.which("go") is None, reason="Go not installed")
def test_go_fallback_pause_behaves_the_same() -> None:
    binary = images.build_pause_binary(PAUSE_VERSION, use_go=True)
    assert images.is_static_elf(binary)
    assert subprocess.run([str(binary), "-v"], capture_output=True, timeout=10).returncode == 0
    proc = running_pause(binary)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


@needs_gcc
def test_pause_image_runs_pause_as_65535() -> None:
    spec = images.pause_image_spec(images.build_pause_binary(PAUSE_VERSION), PAUSE_VERSION)
    assert spec.name == f"registry.k8s.io/pause:{PAUSE_VERSION}"
    assert spec.run_config["Entrypoint"] == ["/pause"] and spec.run_config["User"] == "65535:65535"
    with layer_of(images.oci_archive_bytes(spec)) as layer:
        member = layer.getmember("pause")
    assert member.isfile() and stat.S_IMODE(member.mode) == 0o755


# ---------------------------------------------------------------- import

def fake_ctr(directory: Path, *, exit_code: int) -> Path:
    """A `ctr` stand-in that records its arguments and fails or succeeds."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "ctr"
    script.write_text(f'#!/bin/sh\necho "$@" > "{directory}/args"\n'
                      f'echo "ctr: connection refused" >&2\nexit {exit_code}\n')
    script.chmod(0o755)
    return directory


def test_import_runs_ctr_with_address_namespace_and_platform(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = fake_ctr(tmp_path / "bin", exit_code=0)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    images.import_image(tmp_path / "x.tar", address="/run/test.sock", namespace="k8s.io")
    args = (bindir / "args").read_text().split()
    assert args == ["--address", "/run/test.sock", "-n", "k8s.io", "images", "import",
                    "--platform", "linux/amd64", str(tmp_path / "x.tar")]


def test_import_failure_names_command_stderr_and_next_step(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = fake_ctr(tmp_path / "bin", exit_code=1)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(PodlabError) as err:
        images.import_image(tmp_path / "x.tar", address="/run/test.sock")
    text = str(err.value)
    assert "ctr --address /run/test.sock -n k8s.io images import" in text
    assert "connection refused" in text
    assert "containerd is running at /run/test.sock" in (err.value.hint or "")


# ---------------------------------------------------------------- Go-built images

def fake_binary(tmp_path: Path, name: str) -> Path:
    binary = tmp_path / name
    binary.write_bytes(b"\x7fELF fake " + name.encode())
    return binary


def test_coredns_image_spec_runs_coredns(tmp_path: Path) -> None:
    spec = images.coredns_image_spec(fake_binary(tmp_path, "coredns"), "v1.14.6")
    assert spec.name == "registry.k8s.io/coredns/coredns:v1.14.6"
    assert spec.run_config == {"Entrypoint": ["/coredns"]}
    with layer_of(images.oci_archive_bytes(spec)) as layer:
        assert layer.extractfile("coredns").read() == b"\x7fELF fake coredns"


needs_agnhost_tools = pytest.mark.skipif(
    not all(p.is_file() for p in images.AGNHOST_TOOLS.values()) or not Path("/bin/busybox").is_file(),
    reason="bash, curl or busybox-static not installed")
UPSTREAM_AGNHOST = Path.home() / "go/pkg/mod/k8s.io/kubernetes@v1.37.2/test/images/agnhost"


def fake_agnhost_source(tmp_path: Path) -> Path:
    """A stand-in for test/images/agnhost with porter's two TLS files."""
    source = tmp_path / "agnhost-src"
    (source / "porter").mkdir(parents=True)
    (source / "porter/localhost.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\nfake\n")
    (source / "porter/localhost.key").write_bytes(b"-----BEGIN PRIVATE KEY-----\nfake\n")
    return source


def agnhost_layer(tmp_path: Path) -> dict[str, tarfile.TarInfo]:
    spec = images.agnhost_image_spec(fake_binary(tmp_path, "agnhost"), fake_agnhost_source(tmp_path))
    with layer_of(images.oci_archive_bytes(spec)) as layer:
        return {m.name: m for m in layer.getmembers()}


def elf_needed(path: Path) -> set[str]:
    """The DT_NEEDED sonames of an ELF file, read by readelf (independently of ldd)."""
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    return {line.split("[", 1)[1].split("]", 1)[0] for line in out.splitlines() if "(NEEDED)" in line}


@needs_agnhost_tools
def test_agnhost_image_runs_agnhost_like_upstreams(tmp_path: Path) -> None:
    spec = images.agnhost_image_spec(fake_binary(tmp_path, "agnhost"), fake_agnhost_source(tmp_path))
    assert spec.name == "registry.k8s.io/e2e-test-images/agnhost:2.66.1"
    assert spec.run_config["Entrypoint"] == ["/agnhost"] and spec.run_config["Cmd"] == ["pause"]
    assert spec.run_config["Env"] == [f"PATH={images.DEFAULT_PATH}"]
    assert set(spec.run_config["ExposedPorts"]) == {"80/tcp", "8080/tcp", "8081/tcp", "9376/tcp", "5000/tcp"}
    with layer_of(images.oci_archive_bytes(spec)) as layer:
        assert layer.extractfile("agnhost").read() == b"\x7fELF fake agnhost"
        assert layer.getmember("agnhost-2").linkname == "agnhost"


@needs_agnhost_tools
def test_agnhost_image_has_the_shell_tools_and_tls_files_upstreams_has(tmp_path: Path) -> None:
    source = fake_agnhost_source(tmp_path)
    spec = images.agnhost_image_spec(fake_binary(tmp_path, "agnhost"), source)
    with layer_of(images.oci_archive_bytes(spec)) as layer:
        members = {m.name: m for m in layer.getmembers()}
        read = lambda name: layer.extractfile(name).read()  # noqa: E731
        for name in ("localhost.crt", "localhost.key"):
            assert read(name) == (source / "porter" / name).read_bytes(), name
        assert read("bin/bash") == Path("/bin/bash").read_bytes()
        assert read("usr/bin/curl") == Path("/usr/bin/curl").read_bytes()
        assert read("bin/busybox") == Path("/bin/busybox").read_bytes()
        passwd, group = read("etc/passwd").decode(), read("etc/group").decode()
    for applet in ("sh", "cat", "id", "env"):
        assert members[f"bin/{applet}"].issym() and members[f"bin/{applet}"].linkname == "busybox", applet
    assert members["usr/bin/env"].linkname == "/bin/busybox"       # `#!/usr/bin/env bash` scripts
    assert not members["bin/bash"].issym() and stat.S_IMODE(members["bin/bash"].mode) == 0o755
    assert members["uploads"].isdir() and members["tmp"].mode == 0o1777
    assert "root:x:0:0:" in passwd and "user-defined-in-image:x:1000:1000:" in passwd
    assert "group-defined-in-image:x:50000:user-defined-in-image" in group


@needs_agnhost_tools
@pytest.mark.skipif(shutil.which("readelf") is None, reason="binutils (readelf) not installed")
def test_agnhost_dynamic_tools_carry_every_library_and_the_loader(tmp_path: Path) -> None:
    members = agnhost_layer(tmp_path)
    libdir = images.LIBDIR
    loader = members["lib64/ld-linux-x86-64.so.2"]
    assert loader.issym() and loader.linkname == f"/{libdir}/ld-linux-x86-64.so.2"
    assert members[f"{libdir}/ld-linux-x86-64.so.2"].isfile()
    assert members["lib"].issym() and members["lib"].linkname == "usr/lib"
    # The closure by DT_NEEDED, walked here with readelf, not with the builder's ldd.
    todo, seen = [Path("/bin/bash"), Path("/usr/bin/curl")], set()
    while todo:
        for soname in elf_needed(todo.pop()) - seen:
            seen.add(soname)
            assert f"{libdir}/{soname}" in members, f"{soname} is missing from the image"
            todo.append(Path("/lib/x86_64-linux-gnu") / soname)
    assert {"libc.so.6", "libtinfo.so.6", "libcurl.so.4"} <= seen


def test_agnhost_image_names_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "AGNHOST_TOOLS", {"usr/bin/curl": tmp_path / "no-curl"})
    with pytest.raises(PodlabError, match="no-curl") as err:
        images.agnhost_image_spec(fake_binary(tmp_path, "agnhost"), fake_agnhost_source(tmp_path))
    assert "apt-get install" in (err.value.hint or "")


@needs_agnhost_tools
def test_agnhost_source_without_porter_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PodlabError, match="localhost.crt"):
        images.agnhost_image_spec(fake_binary(tmp_path, "agnhost"), tmp_path)


@pytest.mark.skipif(not UPSTREAM_AGNHOST.is_dir(), reason="k8s.io/kubernetes@v1.37.2 not in Go's module cache")
def test_agnhost_files_are_the_ones_upstreams_dockerfile_adds() -> None:
    dockerfile = (UPSTREAM_AGNHOST / "Dockerfile").read_text()
    for name in images.AGNHOST_SOURCE_FILES:
        assert f"ADD {name} {Path(name).name}\n" in dockerfile, name
        assert (UPSTREAM_AGNHOST / name).is_file()
    assert 'ENTRYPOINT ["/agnhost"]\nCMD ["pause"]' in dockerfile
    assert "EXPOSE " + " ".join(str(p) for p in images.AGNHOST_PORTS) in dockerfile
    assert "RUN ln -s agnhost agnhost-2" in dockerfile and "RUN mkdir /uploads" in dockerfile


def test_ldd_not_found_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ldd = tmp_path / "ldd"
    ldd.write_text("#!/bin/sh\necho '\tlibgone.so.1 => not found'\n")
    ldd.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(PodlabError, match="libgone.so.1"):
        images.shared_libraries([Path("/bin/true")])


def test_agnhost_is_built_from_the_releases_own_source() -> None:
    from podlab.cluster.local import build
    gomod = build.agnhost_gomod("v1.37.2", Path(build.GOMOD / "kubernetes"))
    assert gomod.startswith("module podlab.invalid/agnhost\n")
    assert "\tk8s.io/kubernetes v1.37.2\n" in gomod
    assert gomod.rstrip().endswith("tool (\n\tk8s.io/kubernetes/test/images/agnhost\n)")


def test_control_plane_images_have_their_command_on_path(tmp_path: Path) -> None:
    spec = images.command_image_spec("kube-apiserver", "v1.37.2", {"kube-apiserver": fake_binary(tmp_path, "a")})
    assert spec.name == "registry.k8s.io/kube-apiserver:v1.37.2"
    assert spec.run_config["Entrypoint"] == ["/usr/local/bin/kube-apiserver"]
    assert any(e.startswith("PATH=") and "/usr/local/bin" in e for e in spec.run_config["Env"])
    with layer_of(images.oci_archive_bytes(spec)) as layer:
        member = layer.getmember("usr/local/bin/kube-apiserver")
        assert member.isfile() and stat.S_IMODE(member.mode) == 0o755


def test_etcd_image_carries_etcd_and_etcdctl(tmp_path: Path) -> None:
    for name in ("etcd", "etcdctl"):
        fake_binary(tmp_path, name)
    spec = images.etcd_image_spec(tmp_path, "3.7.0-0")
    assert spec.name == "registry.k8s.io/etcd:3.7.0-0"
    with layer_of(images.oci_archive_bytes(spec)) as layer:
        assert {"usr/local/bin/etcd", "usr/local/bin/etcdctl"} <= set(layer.getnames())


@pytest.mark.skipif(not Path("/usr/sbin/xtables-nft-multi").exists() or shutil.which("nft") is None,
                    reason="iptables/nftables not installed")
@pytest.mark.parametrize("mode", ["nft", "legacy"])
def test_kube_proxy_userland_points_iptables_at_the_hosts_backend(mode: str) -> None:
    entries = {e.path: e for e in images.iptables_userland(mode)}
    assert entries["usr/sbin/iptables-restore"].target == f"xtables-{mode}-multi"
    assert entries["usr/sbin/iptables-nft-save"].target == "xtables-nft-multi"
    assert entries["usr/sbin/ip6tables-legacy"].target == "xtables-legacy-multi"
    assert "usr/lib/x86_64-linux-gnu/xtables/libxt_comment.so" in entries      # kube-proxy's rules use -m comment
    assert "usr/lib/x86_64-linux-gnu/libxtables.so.12" in entries
    assert entries["lib64/ld-linux-x86-64.so.2"].kind == "symlink"
    assert {"usr/sbin/nft", "usr/sbin/conntrack"} <= set(entries)


def test_shared_libraries_come_from_ldd() -> None:
    libs = images.shared_libraries([Path("/bin/ls")])
    assert "libc.so.6" in libs and libs["libc.so.6"].exists()


def test_present_images_lists_what_ctr_reports_and_nothing_when_it_cannot(tmp_path: Path) -> None:
    ctr = tmp_path / "ctr"
    ctr.write_text("#!/bin/sh\necho docker.io/library/busybox:1.35.0\necho registry.k8s.io/pause:3.10.2\n")
    ctr.chmod(0o755)
    assert images.present_images(address="/nowhere.sock", ctr=ctr) == {
        "docker.io/library/busybox:1.35.0", "registry.k8s.io/pause:3.10.2"}
    assert images.present_images(address="/nowhere.sock", ctr=tmp_path / "missing") == set()
    assert set(images.LAB_IMAGES) == {"docker.io/library/busybox:1.35.0",
                                      "registry.k8s.io/e2e-test-images/agnhost:2.66.1"}


def test_image_digests_reads_name_and_digest_from_ctrs_table(tmp_path: Path) -> None:
    ctr = tmp_path / "ctr"
    ctr.write_text("#!/bin/sh\n"
                   "echo 'REF TYPE DIGEST SIZE PLATFORMS LABELS'\n"
                   "echo 'docker.io/library/busybox:1.35.0 application/vnd.oci.image.manifest.v1+json "
                   "sha256:89e5 2.0 MiB linux/amd64 io.cri-containerd.image=managed'\n")
    ctr.chmod(0o755)
    assert images.image_digests(address="/nowhere.sock", ctr=ctr) == {"docker.io/library/busybox:1.35.0": "sha256:89e5"}
    assert images.image_digests(address="/nowhere.sock", ctr=tmp_path / "missing") == {}


def test_archive_digest_is_the_manifest_containerd_will_hold(tmp_path: Path) -> None:
    spec = small_spec()
    tar = tmp_path / "demo.tar"
    images.write_oci_archive(spec, tar)
    index = json.loads(read_members(tar.read_bytes())["index.json"])
    assert images.archive_digest(tar) == index["manifests"][0]["digest"]
    changed = images.ImageSpec(spec.name, spec.cache_name, spec.entries[:-1], spec.run_config)
    images.write_oci_archive(changed, tmp_path / "changed.tar")
    assert images.archive_digest(tmp_path / "changed.tar") != images.archive_digest(tar)
