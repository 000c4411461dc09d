"""kubeadm on the local node: the committed configuration, `kubeadm init` and `kubeadm reset`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from ...errors import PodlabError
from ...progress import step
from . import layout as L
from .layout import Layout

CONFIG_TEMPLATE = Path(__file__).parent / "kubeadm.yaml"
INIT_TIMEOUT = 300.0
RESET_TIMEOUT = 120.0


def render_config(layout: Layout, version: str) -> str:
    """The committed kubeadm configuration with this run's release, CRI socket and resolv.conf."""
    documents = list(yaml.safe_load_all(CONFIG_TEMPLATE.read_text()))
    by_kind = {d["kind"]: d for d in documents}
    by_kind["ClusterConfiguration"]["kubernetesVersion"] = version
    by_kind["InitConfiguration"]["nodeRegistration"]["criSocket"] = f"unix://{layout.containerd_socket}"
    by_kind["KubeletConfiguration"]["resolvConf"] = str(layout.resolv_conf)
    return yaml.safe_dump_all(documents, sort_keys=False)


def init_command(kubeadm: Path, config: Path) -> list[str]:
    """The `kubeadm init` command line (every phase, preflight included)."""
    return [str(kubeadm), "init", f"--config={config}", "--skip-token-print", "--v=1"]


def reset_command(kubeadm: Path, layout: Layout) -> list[str]:
    """The `kubeadm reset` command line: no questions, this node's CRI socket."""
    return [str(kubeadm), "reset", "--force", f"--cri-socket=unix://{layout.containerd_socket}", "--v=1"]


def preflight_failures(output: str) -> list[str]:
    """The `[ERROR Name]: message` lines of a failed preflight, as `Name: message`."""
    failures = []
    for line in output.splitlines():
        if "[ERROR " in line:
            check, _, message = line.split("[ERROR ", 1)[1].partition("]:")
            failures.append(f"{check}: {message.strip()}")
    return failures


def kubeadm_env(kubeadm: Path) -> dict[str, str]:
    """kubeadm's environment: the kubelet of the same build first on PATH (its preflight runs it)."""
    return {**os.environ, "PATH": f"{kubeadm.parent}:{os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}"}


def init(kubeadm: Path, layout: Layout, version: str) -> None:
    """Run `kubeadm init` with podlab's configuration; explain a failure with kubeadm's own words."""
    config = layout.config / "kubeadm.yaml"
    config.write_text(render_config(layout, version))
    log = layout.logs / "kubeadm-init.log"
    command = init_command(kubeadm, config)
    with step("kubeadm init (certificates, etcd and the control plane as static pods, kube-proxy, CoreDNS)",
              log=log):
        with open(log, "w") as out:
            out.write("$ " + " ".join(command) + "\n")
            out.flush()
            try:
                code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=INIT_TIMEOUT,
                                      env=kubeadm_env(kubeadm), stdin=subprocess.DEVNULL).returncode
            except subprocess.TimeoutExpired:
                code = None
        if code != 0:
            raise _init_failure(log, layout, code)


def _init_failure(log: Path, layout: Layout, code: int | None) -> PodlabError:
    text = log.read_text(errors="replace")
    failures = preflight_failures(text)
    if failures:
        return PodlabError("kubeadm's preflight checks failed:\n  - " + "\n  - ".join(failures),
                          hint="Each line names the check and what it found. Fix those (a leftover cluster: "
                               "`podlab down`; a busy port: stop that program), then run `podlab up` again. "
                               f"kubeadm's full output: {log}")
    tail = "\n".join(line for line in text.splitlines()[-25:])
    what = f"did not finish within {INIT_TIMEOUT:.0f}s" if code is None else f"failed (exit {code})"
    return PodlabError(f"kubeadm init {what}. Last lines:\n{tail}",
                      hint=f"kubeadm's output: {log}; the kubelet's: {layout.logs / 'kubelet.log'}. "
                           "`podlab down && podlab up` starts over.")


def reset(kubeadm: Path, layout: Layout) -> None:
    """`kubeadm reset`: remove the pods' containers (through CRI) and kubeadm's files on this node."""
    log = layout.logs / "kubeadm-reset.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        try:
            subprocess.run(reset_command(kubeadm, layout), stdout=out, stderr=subprocess.STDOUT,
                           timeout=RESET_TIMEOUT, stdin=subprocess.DEVNULL, env=kubeadm_env(kubeadm))
        except subprocess.TimeoutExpired:
            out.write(f"podlab: kubeadm reset did not finish within {RESET_TIMEOUT:.0f}s\n")


def user_kubeconfig(admin_conf: str) -> str:
    """kubeadm's admin.conf with podlab's context name (`podlab`), like kind's `kind-<name>`."""
    config = yaml.safe_load(admin_conf)
    old = config["current-context"]
    for context in config["contexts"]:
        if context["name"] == old:
            context["name"] = L.CLUSTER_NAME
    config["current-context"] = L.CLUSTER_NAME
    return yaml.safe_dump(config, sort_keys=False)
