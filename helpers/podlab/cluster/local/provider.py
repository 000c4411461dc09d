"""The local provider: a real single-node cluster as processes on this Linux host."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ... import paths
from ...errors import PodlabError
from ...progress import step
from ..base import ClusterInfo, Readiness
from ...images import NODE_SHARE_DIR
from . import addons, build, components, host, images, pki
from . import layout as L
from .components import Component
from .keeper import KeeperSpec
from .layout import Layout

START_TIMEOUT = 120.0
# The supervised processes, in start-up order.
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd",
              "kubelet", "kube-proxy")


class LocalProvider:
    """Kubernetes built from Go modules and run as supervised processes with Debian's containerd."""

    name = "local"

    def __init__(self, layout: Layout | None = None) -> None:
        self.layout = layout or L.default_layout()

    # -- reporting -------------------------------------------------------------------------

    def check(self) -> Readiness:
        """Report whether the local provider can work on this machine."""
        need_go = not build.binaries_cached()
        missing = tuple(host.missing_prerequisites(need_go=need_go))
        notes = ("binaries cached" if not need_go else "first `up` builds Kubernetes from Go modules (~20 min on 2 cores)",)
        return Readiness(self.name, not missing, missing, notes)

    def status(self) -> str:
        """Which components are running, and whether the API answers."""
        states = []
        for name in COMPONENTS:
            pid = _read_pid(self.layout.run / f"{name}.pid")
            states.append(f"{name}={'running' if pid and _alive(pid) else 'stopped'}")
        api = "API ready" if self._api_ready() else "API not answering"
        return f"local cluster: {api}; " + ", ".join(states)

    def leftovers(self) -> list[str]:
        """What an earlier run left on this host (processes, mounts, bridge, state)."""
        return host.leftovers(self.layout) if os.geteuid() == 0 else []

    def kubectl_path(self) -> Path:
        """The kubectl built with the cluster (same version as the server)."""
        return build.kubernetes_bin_dir() / "kubectl"

    def running(self) -> bool:
        """Whether a previous `up` left a healthy cluster running."""
        return all(_alive(_read_pid(self.layout.run / f"{n}.keeper.pid")) for n in COMPONENTS) \
            and self._api_ready()

    # -- up / down --------------------------------------------------------------------------

    def up(self) -> ClusterInfo:
        """Build what is missing, start every component in order, and wait for a Ready node."""
        host.check_prerequisites(need_go=not build.binaries_cached())
        if self.running():
            print("✓ local cluster already running; reusing it", file=sys.stderr)
            return self._finish()
        left = host.leftovers(self.layout)
        if left:
            with step(f"cleaning up an earlier run ({', '.join(left)})"):
                self._clean()
        host.check_ports()
        k8s_bin, etcd_bin = build.build_kubernetes(), build.build_etcd()
        image_tars = images.ensure_images(coredns=True)
        self._prepare()
        try:
            self._start(components.etcd(self.layout, etcd_bin))
            self._start(components.kube_apiserver(self.layout, k8s_bin))
            self._start(components.kube_controller_manager(self.layout, k8s_bin))
            self._start(components.kube_scheduler(self.layout, k8s_bin))
            restrict = not host.has_capability(host.CAP_SYS_RESOURCE)
            self._start(components.containerd(self.layout, restrict_oom_score_adj=restrict))
            with step(f"importing {len(image_tars)} images into containerd ({', '.join(image_tars)})"):
                for tar in image_tars.values():
                    images.import_image(tar, address=str(self.layout.containerd_socket))
            self._start(components.kubelet(self.layout, k8s_bin, cluster_dns=True))
            self._start(components.kube_proxy(self.layout, k8s_bin))
            self._wait_for_node(k8s_bin)
            self._deploy_coredns(k8s_bin)
        except BaseException:
            print(f"✗ start-up failed; component logs are in {self.layout.logs}", file=sys.stderr)
            raise
        return self._finish()

    def down(self) -> None:
        """Stop every component, remove pods, mounts, network set-up and cluster state."""
        with step("stopping the local cluster"):
            for name in reversed(COMPONENTS):
                _signal(_read_pid(self.layout.run / f"{name}.keeper.pid"), signal.SIGTERM)
            self._clean()
        kubeconfig = paths.kubeconfig_path()
        if kubeconfig.exists() and f"server: https://{L.NODE_IP}:6443" in kubeconfig.read_text():
            kubeconfig.unlink()

    # -- steps ------------------------------------------------------------------------------

    def _clean(self) -> None:
        host.stop_processes(self.layout)
        host.unmount_all(self.layout)
        host.teardown_network(build.kubernetes_bin_dir() / "kube-proxy")
        host.wipe_state(self.layout)

    def _prepare(self) -> None:
        lay = self.layout
        for d in (lay.state, lay.logs, lay.config, lay.run, lay.cni_conf_dir, lay.kubelet_root):
            d.mkdir(parents=True, exist_ok=True)
        with step("creating certificates and kubeconfigs"):
            pki.create_pki(lay.pki)
            pki.Kubeconfigs(lay.pki).write_all()
        host.prepare_network()
        (lay.cni_conf_dir / "10-podlab.conflist").write_text(components.cni_conflist(lay))
        Path(NODE_SHARE_DIR).mkdir(parents=True, exist_ok=True)

    def _start(self, component: Component) -> None:
        lay = self.layout
        for path, content in component.files.items():
            Path(path).write_text(content)
        spec = KeeperSpec(component.name, list(component.argv), str(component.log(lay)),
                          str(lay.run / f"{component.name}.keeper.pid"), str(lay.run / f"{component.name}.pid"))
        spec_path = lay.run / f"{component.name}.json"
        spec.write(spec_path)
        with step(f"starting {component.name}", log=component.log(lay)):
            subprocess.Popen([sys.executable, "-m", "podlab.cluster.local.keeper", str(spec_path)],
                             start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(component.log(lay), "a"), close_fds=True)
            self._wait_healthy(component)

    def _wait_healthy(self, component: Component) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        delay = 0.1
        while time.monotonic() < deadline:
            if self._healthy(component):
                return
            if _crash_count(component.log(self.layout)) >= 3:
                break
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)
        tail = "\n".join(component.log(self.layout).read_text(errors="replace").splitlines()[-20:])
        raise PodlabError(f"{component.name} did not become healthy within {START_TIMEOUT:.0f}s. Last log lines:\n{tail}",
                          hint=f"Full log: {component.log(self.layout)}. Fix the cause, then `podlab down && podlab up`.")

    def _healthy(self, component: Component) -> bool:
        if component.name == "containerd":
            result = subprocess.run(["ctr", "--address", str(self.layout.containerd_socket), "version"],
                                    capture_output=True, timeout=10)
            return result.returncode == 0
        return _get_ok(component.health_url, self.layout.pki) if component.health_url else True

    def _api_ready(self) -> bool:
        return _get_ok(f"https://{L.NODE_IP}:6443/readyz", self.layout.pki)

    def _kubectl(self, k8s_bin: Path, *args: str, input: str | None = None) -> str:
        result = subprocess.run([str(k8s_bin / "kubectl"), f"--kubeconfig={self.layout.admin_kubeconfig}", *args],
                                capture_output=True, text=True, input=input, timeout=300)
        if result.returncode != 0:
            raise PodlabError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()[-600:]}")
        return result.stdout

    def _wait_for_node(self, k8s_bin: Path) -> None:
        with step(f"waiting for node {L.NODE_NAME} to be Ready"):
            self._kubectl(k8s_bin, "wait", "--for=create", f"node/{L.NODE_NAME}", "--timeout=120s")
            self._kubectl(k8s_bin, "wait", "--for=condition=Ready", f"node/{L.NODE_NAME}", "--timeout=120s")
            self._kubectl(k8s_bin, "wait", "--for=create", "-n", "default", "serviceaccount/default",
                          "--timeout=120s")

    def _deploy_coredns(self, k8s_bin: Path) -> None:
        with step("deploying CoreDNS (cluster DNS at " + L.DNS_SERVICE_IP + ")"):
            self._kubectl(k8s_bin, "apply", "--server-side", "-f", "-", input=addons.coredns_manifest(images.COREDNS_IMAGE))
            self._kubectl(k8s_bin, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=120s")

    def _finish(self) -> ClusterInfo:
        target = paths.kubeconfig_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(pki.Kubeconfigs(self.layout.pki).user_kubeconfig())
        target.chmod(0o600)
        return ClusterInfo(self.name, L.CLUSTER_NAME, target)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _signal(pid: int | None, sig: int) -> None:
    if pid and _alive(pid):
        os.kill(pid, sig)


def _crash_count(log: Path) -> int:
    try:
        return log.read_text(errors="replace").count("] restarting in ")
    except OSError:
        return 0


def _get_ok(url: str, pki_dir: Path) -> bool:
    """Whether an HTTP(S) health endpoint answers 200; the API server is asked as admin."""
    context = None
    if url.startswith("https://"):
        if url.startswith(f"https://{L.NODE_IP}:6443"):
            context = ssl.create_default_context(cafile=str(pki_dir / "ca.crt"))
            context.load_cert_chain(str(pki_dir / "admin.crt"), str(pki_dir / "admin.key"))
        else:
            context = ssl._create_unverified_context()  # self-signed health endpoints on loopback
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False
