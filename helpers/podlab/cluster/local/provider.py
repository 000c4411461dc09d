"""The local provider: a kubeadm node on this Linux host, built the way kind builds its node.

podlab builds Kubernetes (kubeadm included), etcd, CoreDNS, containerd and runc from Go
modules, turns them into the images kubeadm expects, and supervises the two processes
systemd would run on a kind node: containerd and the kubelet. `kubeadm init` does the rest:
certificates, etcd and the control plane as static pods, kube-proxy and CoreDNS.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ... import paths
from ...errors import PodlabError
from ...images import NODE_SHARE_DIR
from ...progress import step
from ..base import ClusterInfo, Readiness
from . import build, components, host, images, kubeadm
from . import layout as L
from .components import Component
from .keeper import KeeperSpec
from .layout import Layout

START_TIMEOUT = 120.0
# The processes podlab supervises, in start-up order (everything else runs in pods).
COMPONENTS = ("containerd", "kubelet")
# The kubelet's file with the nameserver for dnsPolicy: Default pods (CoreDNS's upstream). The
# node address has no DNS server: names outside the cluster fail at once, and no pod query
# leaves this machine.
POD_RESOLV_CONF = f"# podlab: the upstream of pods with dnsPolicy Default (CoreDNS forwards here)\nnameserver {L.NODE_IP}\n"


class LocalProvider:
    """A kubeadm node on this host: containerd and the kubelet supervised, the rest in pods."""

    name = "local"

    def __init__(self, layout: Layout | None = None, kubernetes_version: str | None = None) -> None:
        self.layout = layout or L.default_layout()
        self.version = build.normalize_version(kubernetes_version or L.DEFAULT_KUBERNETES_VERSION)

    # -- reporting -------------------------------------------------------------------------

    def check(self) -> Readiness:
        """Report whether the local provider can work on this machine."""
        need_go = not build.binaries_cached(self.version)
        missing = tuple(host.missing_prerequisites(need_go=need_go))
        notes = (f"Kubernetes {self.version}: " + ("binaries cached" if not need_go else
                 "the first `up` builds it from Go modules (about 12 min on 2 cores)"),)
        return Readiness(self.name, not missing, missing, notes)

    def status(self) -> str:
        """Which supervised processes run, which version, and whether the API answers."""
        states = []
        for name in COMPONENTS:
            pid = _read_pid(self.layout.run / f"{name}.pid")
            states.append(f"{name}={'running' if pid and _alive(pid) else 'stopped'}")
        record = self.record()
        version = record.get("kubernetes", "?") if record else "none"
        api = "API ready" if self._api_ready() else "API not answering"
        return f"local cluster (Kubernetes {version}): {api}; " + ", ".join(states)

    def record(self) -> dict | None:
        """What `up` recorded about the cluster on this host (version), if any."""
        try:
            return json.loads(self.layout.cluster_record.read_text())
        except (OSError, ValueError):
            return None

    def leftovers(self) -> list[str]:
        """What an earlier run left on this host (processes, mounts, network, files)."""
        return host.leftovers(self.layout) if os.geteuid() == 0 else []

    def kubectl_path(self) -> Path:
        """The kubectl built with the running cluster (same version as the server)."""
        record = self.record()
        return build.kubernetes_bin_dir(record["kubernetes"] if record else self.version) / "kubectl"

    def _import_missing_lab_images(self) -> None:
        """Import the lab images a running cluster lacks or holds in another build than podlab's current one."""
        release = build.release(self.version)
        bins = build.build_all(release)  # cached: returns at once
        ctr = bins["containerd"] / "ctr"
        held = images.image_digests(address=str(self.layout.containerd_socket), ctr=ctr)
        archives = {spec.name: images.cached_archive(spec) for spec in images.image_specs(release, bins)
                    if spec.name in images.LAB_IMAGES}
        stale = {name: tar for name, tar in archives.items() if held.get(name) != images.archive_digest(tar)}
        if not stale:
            return
        with step(f"importing {', '.join(stale)} into the running cluster"):
            images.import_images(list(stale.values()), address=str(self.layout.containerd_socket), ctr=ctr)

    def running(self) -> bool:
        """Whether a previous `up` left a healthy cluster running."""
        return all(_alive(_read_pid(self.layout.run / f"{n}.keeper.pid")) for n in COMPONENTS) \
            and self._api_ready()

    # -- up / down --------------------------------------------------------------------------

    def up(self) -> ClusterInfo:
        """Build what is missing, start containerd and the kubelet, run kubeadm init, wait for a Ready node."""
        host.check_prerequisites(need_go=not build.binaries_cached(self.version))
        record = self.record()
        if self.running() and record and record.get("kubernetes") == self.version:
            print(f"✓ local cluster (Kubernetes {self.version}) already running; reusing it", file=sys.stderr)
            self._import_missing_lab_images()
            return self._finish()
        foreign = host.foreign_node_files(self.layout)
        if foreign:
            raise PodlabError("This machine already has kubeadm files that podlab did not create:\n  - "
                              + "\n  - ".join(foreign[:8]),
                              hint="It is (or was) a node of another cluster. podlab leaves it alone: run "
                                   "`kubeadm reset` yourself if it is really unused, or use `--provider kind`.")
        # Everything that can fail on bad input (version, network, build) before touching the host.
        release = build.release(self.version)
        bins = build.build_all(release)
        image_tars = images.ensure_images(release, bins)
        left = host.leftovers(self.layout)
        if left:
            what = (f"replacing the running Kubernetes {record['kubernetes']} cluster" if record and self.running()
                    else f"cleaning up an earlier run ({', '.join(left)})")
            with step(what):
                self._clean()
        host.check_ports()
        self._prepare(release)
        try:
            restrict = not host.has_capability(host.CAP_SYS_RESOURCE)
            runc = bins["runc"] / "runc"
            self._start(components.containerd(self.layout, bins["containerd"], runc,
                                              pause_image=f"{images.REGISTRY}/pause:{release.pause}",
                                              restrict_oom_score_adj=restrict))
            with step(f"importing {len(image_tars)} images into containerd"):
                images.import_images(list(image_tars.values()), address=str(self.layout.containerd_socket),
                                     ctr=bins["containerd"] / "ctr")
            self._start(components.kubelet(bins["kubernetes"]), wait=False)
            kubeadm.init(bins["kubernetes"] / "kubeadm", self.layout, self.version)
            self._wait_for_cluster(bins["kubernetes"] / "kubectl")
        except BaseException:
            print(f"✗ start-up failed; stopping what was started (the logs stay in {self.layout.logs})",
                  file=sys.stderr)
            try:
                self.down()
            except Exception as cleanup:  # the first error is the one to report
                print(f"  (clean-up also failed: {cleanup}; `podlab down` retries it)", file=sys.stderr)
            raise
        return self._finish()

    def down(self) -> None:
        """Stop the kubelet, `kubeadm reset`, stop containerd, and remove what is left on the host."""
        record = self.record()
        version = record["kubernetes"] if record else self.version
        kubeadm_bin = build.kubernetes_bin_dir(version) / "kubeadm"
        with step("stopping the local cluster"):
            self._stop("kubelet")
            if kubeadm_bin.exists() and self._containerd_up() and host.podlab_owns_kubeadm_files(self.layout):
                kubeadm.reset(kubeadm_bin, self.layout)
            self._stop("containerd")
            self._clean()
        kubeconfig = paths.kubeconfig_path()
        if kubeconfig.exists() and f"server: https://{L.NODE_IP}:6443" in kubeconfig.read_text():
            kubeconfig.unlink()

    # -- steps ------------------------------------------------------------------------------

    def _clean(self) -> None:
        host.stop_processes(self.layout)
        host.unmount_all(self.layout)
        host.teardown_network()
        host.wipe_state(self.layout)

    def _prepare(self, release: build.Release) -> None:
        lay = self.layout
        for d in (lay.state, lay.logs, lay.config, lay.run, lay.cni_conf_dir):
            d.mkdir(parents=True, exist_ok=True)
        lay.cluster_record.write_text(json.dumps({"kubernetes": release.kubernetes, "etcd": release.etcd,
                                                  "coredns": release.coredns, "pause": release.pause}))
        host.prepare_network()
        host.create_pod_cgroup_root()
        (lay.cni_conf_dir / "10-podlab.conflist").write_text(components.cni_conflist(lay))
        lay.resolv_conf.write_text(POD_RESOLV_CONF)
        Path(NODE_SHARE_DIR).mkdir(parents=True, exist_ok=True)

    def _start(self, component: Component, *, wait: bool = True) -> None:
        lay = self.layout
        for path, content in component.files.items():
            Path(path).write_text(content)
        spec = KeeperSpec(component.name, list(component.argv), str(component.log(lay)),
                          str(lay.run / f"{component.name}.keeper.pid"), str(lay.run / f"{component.name}.pid"),
                          env=dict(component.env), wait_for=component.wait_for, env_file=component.env_file,
                          env_file_vars=list(component.env_file_vars))
        spec_path = lay.run / f"{component.name}.json"
        spec.write(spec_path)
        with step(f"starting {component.name}" + ("" if wait else " (it waits for kubeadm's configuration)"),
                  log=component.log(lay)):
            subprocess.Popen([sys.executable, "-m", "podlab.cluster.local.keeper", str(spec_path)],
                             start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(component.log(lay), "a"), close_fds=True)
            if wait:
                self._wait_healthy(component)

    def _stop(self, name: str) -> None:
        """Stop one supervised process through its keeper and wait until both are gone."""
        keeper = _read_pid(self.layout.run / f"{name}.keeper.pid")
        child = _read_pid(self.layout.run / f"{name}.pid")
        _signal(keeper, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (_alive(keeper) or _alive(child)):
            time.sleep(0.05)

    def _wait_healthy(self, component: Component) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        delay = 0.05
        while time.monotonic() < deadline:
            if self._healthy(component):
                return
            if _crash_count(component.log(self.layout)) >= 3:
                break
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
        tail = "\n".join(component.log(self.layout).read_text(errors="replace").splitlines()[-20:])
        raise PodlabError(f"{component.name} did not become healthy within {START_TIMEOUT:.0f}s. Last log lines:\n{tail}",
                          hint=f"Full log: {component.log(self.layout)}. Fix the cause, then `podlab down && podlab up`.")

    def _healthy(self, component: Component) -> bool:
        if component.name == "containerd":
            return self._containerd_up()
        return _get_ok(component.health_url) if component.health_url else True

    def _containerd_up(self) -> bool:
        return self.layout.containerd_socket.is_socket() and \
            _alive(_read_pid(self.layout.run / "containerd.pid"))

    def _api_ready(self) -> bool:
        kubectl = self.kubectl_path()
        if not (kubectl.exists() and L.ADMIN_KUBECONFIG.exists()):
            return False
        result = subprocess.run([str(kubectl), f"--kubeconfig={L.ADMIN_KUBECONFIG}", "get", "--raw=/readyz",
                                 "--request-timeout=3s"], capture_output=True, text=True)
        return result.returncode == 0 and result.stdout.strip() == "ok"

    def _kubectl(self, kubectl: Path, *args: str) -> str:
        result = subprocess.run([str(kubectl), f"--kubeconfig={L.ADMIN_KUBECONFIG}", *args],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise PodlabError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()[-600:]}",
                              hint=f"Logs: {self.layout.logs}; `podlab down && podlab up` starts over.")
        return result.stdout

    def _wait_for_cluster(self, kubectl: Path) -> None:
        # Like `kind create cluster`, return once pods can run and reach Services: CoreDNS turns
        # Ready up to a probe period (10 s) later, and open_lab waits for it where it matters.
        with step(f"waiting for node {L.NODE_NAME} and kube-proxy"):
            self._kubectl(kubectl, "wait", "--for=condition=Ready", f"node/{L.NODE_NAME}", "--timeout=180s")
            self._kubectl(kubectl, "-n", "kube-system", "rollout", "status", "daemonset/kube-proxy", "--timeout=180s")
            self._kubectl(kubectl, "wait", "--for=create", "-n", "kube-system", "deployment/coredns",
                          "--timeout=120s")
            self._kubectl(kubectl, "wait", "--for=create", "-n", "default", "serviceaccount/default",
                          "--timeout=120s")

    def _finish(self) -> ClusterInfo:
        target = paths.kubeconfig_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(kubeadm.user_kubeconfig(L.ADMIN_KUBECONFIG.read_text()))
        target.chmod(0o600)
        return ClusterInfo(self.name, L.CLUSTER_NAME, target)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


_alive = host.process_running


def _signal(pid: int | None, sig: int) -> None:
    if pid and _alive(pid):
        os.kill(pid, sig)


def _crash_count(log: Path) -> int:
    try:
        return log.read_text(errors="replace").count("] restarting in ")
    except OSError:
        return 0


def _get_ok(url: str) -> bool:
    """Whether a plain-HTTP health endpoint on loopback answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False
