"""The host side of the local cluster: preflight checks, network set-up and clean-up."""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from ...errors import PodlabError, ProviderUnavailable
from . import layout as L
from .layout import Layout

CNI_PLUGINS = ("ptp", "host-local", "loopback", "portmap")
CGROUP_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids")
FORWARD_CHAIN = "PODLAB-FORWARD"
APT_PACKAGES = ("containernetworking-plugins iptables nftables conntrack iproute2 busybox-static "
                "gcc libc6-dev libseccomp-dev pkg-config")


def missing_prerequisites(*, need_go: bool) -> list[str]:
    """Everything this machine lacks for the local provider, each with how to get it."""
    missing: list[str] = []
    if platform.system() != "Linux":
        return [f"Linux (this is {platform.system()}): use `podlab up --provider kind` with Docker instead"]
    if os.geteuid() != 0:
        missing.append("root: the local provider runs containerd and the kubelet; run it as root "
                       "(sudo -E podlab up) or use `--provider kind`")
    tools = {"iptables": "iptables", "nft": "nftables", "conntrack": "conntrack", "ip": "iproute2",
             "ldd": "libc-bin", "mount": "mount"}
    if need_go:
        tools.update({"gcc": "gcc libc6-dev", "pkg-config": "pkg-config"})
    for tool, package in tools.items():
        if shutil.which(tool) is None:
            missing.append(f"{tool} (apt-get install {package})")
    if need_go and not any(Path(d, "seccomp.h").exists() for d in ("/usr/include", "/usr/local/include")):
        missing.append("libseccomp's headers to build runc (apt-get install libseccomp-dev)")
    for plugin in CNI_PLUGINS:
        if not Path("/usr/lib/cni", plugin).exists():
            missing.append(f"CNI plugin {plugin} in /usr/lib/cni (apt-get install containernetworking-plugins)")
    if not Path("/bin/busybox").exists() or "static" not in _file_type("/bin/busybox"):
        missing.append("a static busybox for the lab image (apt-get install busybox-static)")
    if need_go:
        have = go_version()
        if have is None or have < MIN_GO:
            found = "not installed" if have is None else "found go" + ".".join(map(str, have))
            missing.append(f"Go ≥ {'.'.join(map(str, MIN_GO))} to build Kubernetes, containerd and runc ({found}; "
                           "from go.dev or a recent Debian's golang-go); needed only until the binaries are cached")
    missing.extend(_missing_cgroups())
    if "overlay" not in Path("/proc/filesystems").read_text():
        missing.append("the overlay filesystem in the kernel (containerd's snapshotter)")
    if not Path("/proc/sys/net/bridge").exists():
        missing.append("br_netfilter (modprobe br_netfilter) so Service traffic between pods works")
    return missing


# containerd v2.3.7's go.mod asks for go 1.26.8, the newest of the modules podlab builds.
MIN_GO = (1, 26, 8)


def go_version() -> tuple[int, ...] | None:
    """The installed Go's version, e.g. (1, 26, 8); None without Go."""
    if shutil.which("go") is None:
        return None
    out = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    numbers = out.removeprefix("go").split("rc")[0].split(".")
    try:
        return tuple(int(n) for n in numbers if n)
    except ValueError:
        return None


def _file_type(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(4096)
    # A static ELF has no PT_INTERP: look for the dynamic loader's name instead of running `file`.
    return "dynamic" if b"ld-linux" in head else "static"


def _missing_cgroups() -> list[str]:
    enabled = set()
    for line in Path("/proc/cgroups").read_text().splitlines()[1:]:
        name, _hierarchy, _count, on = line.split()
        if on == "1":
            enabled.add(name)
    return [f"cgroup controller {c} (enable it in the kernel)" for c in CGROUP_CONTROLLERS if c not in enabled]


def check_prerequisites(*, need_go: bool) -> None:
    """Raise one clear error listing what is missing for the local provider."""
    missing = missing_prerequisites(need_go=need_go)
    if missing:
        raise ProviderUnavailable("The local provider cannot run here; missing:\n  - " + "\n  - ".join(missing),
                                  hint=f"On Debian/Ubuntu: apt-get install -y {APT_PACKAGES} "
                                       "(or `make host-deps`)")


def ports_in_use() -> list[str]:
    """The podlab ports another program already listens on, with that program's name."""
    taken = []
    for what, port in L.PORTS.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                taken.append(f"{port} ({what}) is used by {_listener(port)}")
    return taken


def _listener(port: int) -> str:
    out = subprocess.run(["ss", "-H", "-ltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    return out.split("users:", 1)[1].strip() if "users:" in out else "another program"


CAP_SYS_RESOURCE = 24


def has_capability(bit: int) -> bool:
    """Whether this process holds a capability in its effective set."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> bit & 1)
    return False


def check_ports() -> None:
    """Refuse to start when a port podlab needs is taken, naming who holds it."""
    taken = ports_in_use()
    if taken:
        raise PodlabError("Ports the local cluster needs are already in use:\n  - " + "\n  - ".join(taken),
                          hint="Stop that program (or an earlier cluster with `podlab down`), then run `podlab up` again.")


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise PodlabError(f"`{' '.join(argv)}` failed: {result.stderr.strip()[-400:]}")
    return result


def prepare_network() -> None:
    """Give the node its address, enable forwarding, and keep pod traffic on this machine."""
    if L.NODE_IP not in _run("ip", "-o", "addr", "show", "dev", L.NODE_INTERFACE).stdout:
        _run("ip", "addr", "add", f"{L.NODE_IP}/32", "dev", L.NODE_INTERFACE)
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1")
    Path("/proc/sys/net/bridge/bridge-nf-call-iptables").write_text("1")
    # Pods may talk to each other, to Services and to the node, never to the outside network.
    _run("iptables", "-N", FORWARD_CHAIN, check=False)
    _run("iptables", "-F", FORWARD_CHAIN)
    _run("iptables", "-A", FORWARD_CHAIN, "-s", L.POD_CIDR, "-d", L.POD_CIDR, "-j", "RETURN")
    _run("iptables", "-A", FORWARD_CHAIN, "-s", L.POD_CIDR, "-j", "REJECT")
    if _run("iptables", "-C", "FORWARD", "-j", FORWARD_CHAIN, check=False).returncode != 0:
        _run("iptables", "-I", "FORWARD", "1", "-j", FORWARD_CHAIN)


def _our_processes(layout: Layout, markers: tuple[str, ...]) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(m in cmdline for m in markers):
            pids.append(int(entry.name))
    return pids


def _kill(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def process_running(pid: int | None) -> bool:
    """Whether a process runs (a zombie, such as an exited keeper we started, does not count)."""
    if not pid:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(process_running(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def create_pod_cgroup_root() -> None:
    """Create the kubelet's cgroup root in every hierarchy (kind's node entrypoint does the same)."""
    for controller in Path("/sys/fs/cgroup").iterdir():
        if controller.is_dir() and not controller.is_symlink():
            (controller / L.CGROUP_ROOT).mkdir(exist_ok=True)


def _pod_cgroup_tops() -> list[Path]:
    """The kubelet's cgroup roots in every v1 hierarchy (and the unified one)."""
    tops = []
    for controller in Path("/sys/fs/cgroup").iterdir():
        for name in (L.CGROUP_ROOT, "kubepods"):
            if (controller / name).is_dir():
                tops.append(controller / name)
    return tops


def _pod_pids() -> list[int]:
    """Every process in the kubelet's pod cgroups."""
    pids: set[int] = set()
    for top in _pod_cgroup_tops():
        for procs in top.rglob("cgroup.procs"):
            try:
                pids.update(int(p) for p in procs.read_text().split())
            except OSError:
                pass
    return sorted(pids)


# The builds whose binaries run as host processes of the local cluster (kubelet, kubeadm, kubectl;
# containerd and its shim; runc). Not the whole build cache: the kind provider's `kind` runs from
# it too, and a local `down` or crash recovery must never touch another provider's processes.
HOST_BINARIES = ("kubernetes", "containerd", "runc")


def _runtime_markers(layout: Layout) -> tuple[str, ...]:
    """What the command line of containerd, its shims and the local cluster's binaries contains.

    The binaries are matched under this cache and under any `podlab/bin/` (a cluster started with
    another XDG_CACHE_HOME still runs its kubelet from there, with no socket or state path on its
    command line: kubeadm passes those in files). kind's node processes run from the node's
    /usr/bin, and the kind binary is not one of HOST_BINARIES.
    """
    built = L.binaries_dir("", "").parent
    return (str(layout.containerd_socket), str(layout.state) + "/",
            *(f"{built}/{name}-v" for name in HOST_BINARIES), *(f"/podlab/bin/{name}-v" for name in HOST_BINARIES))


def kill_pod_processes() -> int:
    """Kill every process in the kubelet's pod cgroups and remove those cgroups."""
    killed = 0
    for _attempt in range(50):
        pids = _pod_pids()
        if not pids:
            break
        killed += len(pids)
        _kill(pids, signal.SIGKILL)
        _gone(pids, 2)
    for top in _pod_cgroup_tops():
        for d in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            try:
                d.rmdir()
            except OSError:
                pass
        try:
            top.rmdir()
        except OSError:
            pass
    return killed


def kill_cluster_processes(layout: Layout) -> int:
    """SIGKILL every process of the cluster at once, pods included, as a crash would; returns how many."""
    pids = set(_our_processes(layout, ("podlab.cluster.local.keeper", *_runtime_markers(layout))))
    pids.update(_pod_pids())
    _kill(sorted(pids), signal.SIGKILL)
    _gone(sorted(pids), 5)
    return len(pids)


def stop_processes(layout: Layout) -> None:
    """Stop every process of this cluster that is still running: keepers, pods, shims, the rest."""
    keepers = _our_processes(layout, ("podlab.cluster.local.keeper",))
    _kill(keepers, signal.SIGTERM)
    if not _gone(keepers, 20):
        _kill(keepers, signal.SIGKILL)
    kill_pod_processes()
    ours = _our_processes(layout, _runtime_markers(layout))
    _kill(ours, signal.SIGKILL)
    _gone(ours, 5)


def _mounts_under(roots: tuple[Path, ...]) -> list[str]:
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        target = line.split()[4].replace("\\040", " ")
        if any(target == str(r) or target.startswith(str(r) + "/") for r in roots):
            mounts.append(target)
    return mounts


def _mount_roots(layout: Layout) -> tuple[Path, ...]:
    return (layout.state, layout.run, L.KUBELET_DIR)


def unmount_all(layout: Layout) -> int:
    """Unmount everything mounted below the cluster's directories, deepest first."""
    count = 0
    for _ in range(5):
        mounts = sorted(set(_mounts_under(_mount_roots(layout))), key=lambda m: -m.count("/"))
        if not mounts:
            break
        for target in mounts:
            if _run("umount", target, check=False).returncode != 0:
                _run("umount", "-l", target, check=False)
            count += 1
    left = _mounts_under(_mount_roots(layout))
    if left:
        raise PodlabError(f"Could not unmount: {', '.join(left[:5])}",
                          hint="Something still uses these mounts; check with `fuser -vm PATH`, then run `podlab down` again.")
    return count


def pod_links() -> list[str]:
    """The node's ends of pod links: ptp gives each the pod network's gateway address."""
    out = _run("ip", "-o", "-4", "addr", "show", "to", L.POD_CIDR, check=False).stdout
    return sorted({line.split()[1].split("@")[0] for line in out.splitlines() if len(line.split()) > 1})


def teardown_network() -> None:
    """Remove the pods' links, the rules kube-proxy, the kubelet and podlab added, and the node address."""
    if _run("ip", "link", "show", L.BRIDGE, check=False).returncode == 0:
        _run("ip", "link", "delete", L.BRIDGE)
    for link in pod_links():  # ptp's node ends whose pod namespace outlived a killed run
        _run("ip", "link", "delete", link, check=False)
    for tool in ("iptables", "ip6tables"):
        remove_kube_chains(tool)
    for family in ("ip", "ip6"):
        # kube-proxy's nftables mode table, should a run have used it.
        _run("nft", "delete", "table", family, "kube-proxy", check=False)
    while _run("iptables", "-D", "FORWARD", "-j", FORWARD_CHAIN, check=False).returncode == 0:
        pass
    _run("iptables", "-F", FORWARD_CHAIN, check=False)
    _run("iptables", "-X", FORWARD_CHAIN, check=False)
    if L.NODE_IP in _run("ip", "-o", "addr", "show", "dev", L.NODE_INTERFACE).stdout:
        _run("ip", "addr", "del", f"{L.NODE_IP}/32", "dev", L.NODE_INTERFACE)


def remove_kube_chains(tool: str) -> None:
    """Remove every KUBE-* chain (kube-proxy's and the kubelet's) and the jumps to them."""
    if shutil.which(tool) is None:
        return
    for table in ("filter", "nat", "mangle"):
        rules = _run(tool, "-t", table, "-S", check=False).stdout.splitlines()
        for rule in rules:
            parts = shlex.split(rule)
            if parts[:1] == ["-A"] and not parts[1].startswith("KUBE-") and "-j" in parts \
                    and parts[parts.index("-j") + 1].startswith("KUBE-"):
                _run(tool, "-t", table, "-D", *parts[1:], check=False)
        chains = [r.split()[1] for r in rules if r.startswith("-N KUBE-")]
        for chain in chains:
            _run(tool, "-t", table, "-F", chain, check=False)
        for chain in chains:
            _run(tool, "-t", table, "-X", chain, check=False)


def kube_rules() -> list[str]:
    """The KUBE-* and PODLAB-* chains and nftables tables left in the host's firewall."""
    found = []
    for tool in ("iptables", "ip6tables"):
        if shutil.which(tool) is None:
            continue
        for table in ("filter", "nat", "mangle"):
            for rule in _run(tool, "-t", table, "-S", check=False).stdout.splitlines():
                if rule.startswith("-N KUBE-") or rule.startswith("-N PODLAB-"):
                    found.append(f"{tool} {table} {rule.split()[1]}")
    if shutil.which("nft"):
        for line in _run("nft", "list", "tables", check=False).stdout.splitlines():
            if "kube-proxy" in line:
                found.append(f"nft {line.removeprefix('table ')}")
    return found


def podlab_owns_kubeadm_files(layout: Layout) -> bool:
    """Whether /etc/kubernetes and /var/lib/kubelet belong to podlab's cluster (its record exists)."""
    return layout.cluster_record.exists()


def foreign_node_files(layout: Layout) -> list[str]:
    """kubeadm files on this host that podlab did not create (another cluster's node)."""
    if podlab_owns_kubeadm_files(layout):
        return []
    found = [str(p) for p in (L.ADMIN_KUBECONFIG, L.KUBERNETES_DIR / "kubelet.conf", L.KUBELET_DIR / "config.yaml")
             if p.exists()]
    if L.MANIFESTS_DIR.is_dir():
        found += [str(p) for p in sorted(L.MANIFESTS_DIR.iterdir())]
    for data in (L.ETCD_DIR, L.KUBELET_DIR):
        if data.is_dir() and any(data.iterdir()) and str(data / "config.yaml") not in found:
            found.append(f"{data} (not empty)")
    return found


def leftovers(layout: Layout) -> list[str]:
    """What an earlier run left behind on this host (processes, mounts, network, cgroups, files)."""
    found = []
    procs = _our_processes(layout, ("podlab.cluster.local.keeper", str(layout.containerd_socket)))
    if procs:
        found.append(f"{len(procs)} processes")
    mounts = _mounts_under(_mount_roots(layout))
    if mounts:
        found.append(f"{len(mounts)} mounts")
    if _run("ip", "link", "show", L.BRIDGE, check=False).returncode == 0:
        found.append(f"bridge {L.BRIDGE}")
    links = pod_links()
    if links:
        found.append(f"{len(links)} pod links")
    if L.NODE_IP in _run("ip", "-o", "addr", "show", "dev", L.NODE_INTERFACE, check=False).stdout:
        found.append(f"address {L.NODE_IP}")
    rules = kube_rules()
    if rules:
        found.append(f"{len(rules)} firewall chains")
    if _pod_cgroup_tops():
        found.append("pod cgroups")
    if podlab_owns_kubeadm_files(layout):
        for path in (L.KUBERNETES_DIR, L.KUBELET_DIR, L.ETCD_DIR):
            if path.exists():
                found.append(str(path))
    if layout.containerd_root.exists() or layout.run.exists():
        found.append("containerd state")
    return found


def wipe_state(layout: Layout) -> None:
    """Delete the cluster's state, keeping nothing a next run would trip over (logs stay)."""
    for path in (layout.containerd_root, layout.cni_ipam, layout.run, layout.config, layout.cni_conf_dir):
        shutil.rmtree(path, ignore_errors=True)
    if podlab_owns_kubeadm_files(layout):
        for path in (L.KUBELET_DIR, L.ETCD_DIR, L.KUBERNETES_DIR):
            shutil.rmtree(path, ignore_errors=True)
        layout.cluster_record.unlink(missing_ok=True)
