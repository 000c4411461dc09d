"""Certificates and kubeconfigs for the local cluster, made with openssl."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ...errors import PodlabError
from . import layout as L


@dataclass(frozen=True)
class Cert:
    """One certificate to issue from the cluster CA."""

    name: str
    common_name: str
    organization: str | None = None
    server: bool = False
    client: bool = False
    dns_names: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()

    def subject(self) -> str:
        """The openssl -subj string."""
        org = f"/O={self.organization}" if self.organization else ""
        return f"{org}/CN={self.common_name}"

    def extensions(self) -> str:
        """The x509v3 extension section for signing."""
        usages = [u for u, on in (("serverAuth", self.server), ("clientAuth", self.client)) if on]
        lines = [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            f"extendedKeyUsage={','.join(usages)}",
        ]
        sans = [f"DNS:{d}" for d in self.dns_names] + [f"IP:{i}" for i in self.ips]
        if sans:
            lines.append(f"subjectAltName={','.join(sans)}")
        return "\n".join(lines) + "\n"


def cluster_certs() -> list[Cert]:
    """Every certificate a cluster like kubeadm's needs, for one node."""
    return [
        Cert("apiserver", "kube-apiserver", server=True,
             dns_names=("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                        f"kubernetes.default.svc.{L.CLUSTER_DOMAIN}", "localhost"),
             ips=("127.0.0.1", L.NODE_IP, L.KUBERNETES_SERVICE_IP)),
        # The apiserver's identity towards kubelets (exec, logs, port-forward).
        Cert("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters", client=True),
        Cert("admin", "podlab-admin", "system:masters", client=True),
        Cert("controller-manager", "system:kube-controller-manager", client=True),
        Cert("scheduler", "system:kube-scheduler", client=True),
        Cert("kube-proxy", "system:kube-proxy", client=True),
        Cert("kubelet-client", f"system:node:{L.NODE_NAME}", "system:nodes", client=True),
        Cert("kubelet-serving", L.NODE_NAME, "system:nodes", server=True,
             dns_names=(L.NODE_NAME, "localhost"), ips=(L.NODE_IP, "127.0.0.1")),
    ]


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise PodlabError(f"openssl {args[0]} failed: {result.stderr.strip()[-400:]}",
                          hint="Is the openssl package installed? (apt-get install openssl)")


def _new_key(path: Path) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path.name, cwd=path.parent)
    path.chmod(0o600)


def create_pki(pki: Path) -> None:
    """Create the CA, every component certificate and the service-account key pair."""
    pki.mkdir(parents=True, exist_ok=True)
    _new_key(pki / "ca.key")
    _openssl("req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "3650",
             "-subj", "/CN=podlab-ca", "-out", "ca.crt", cwd=pki)
    for cert in cluster_certs():
        _new_key(pki / f"{cert.name}.key")
        _openssl("req", "-new", "-key", f"{cert.name}.key", "-subj", cert.subject(),
                 "-out", f"{cert.name}.csr", cwd=pki)
        (pki / f"{cert.name}.ext").write_text(cert.extensions())
        _openssl("x509", "-req", "-in", f"{cert.name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-sha256", "-days", "3650", "-extfile", f"{cert.name}.ext",
                 "-out", f"{cert.name}.crt", cwd=pki)
    _new_key(pki / "sa.key")
    _openssl("ec", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def kubeconfig(*, server: str, ca: Path, cert: Path, key: Path, user: str,
               context: str = L.CLUSTER_NAME, embed: bool = False) -> str:
    """A kubeconfig for one identity; embed=True inlines the certificates."""

    def ref(kind: str, path: Path) -> dict[str, str]:
        if embed:
            return {f"{kind}-data": base64.b64encode(path.read_bytes()).decode()}
        return {kind: str(path)}

    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": L.CLUSTER_NAME,
                      "cluster": {"server": server, **ref("certificate-authority", ca)}}],
        "users": [{"name": user, "user": {**ref("client-certificate", cert), **ref("client-key", key)}}],
        "contexts": [{"name": context, "context": {"cluster": L.CLUSTER_NAME, "user": user}}],
        "current-context": context,
        "preferences": {},
    }
    return yaml.safe_dump(doc, sort_keys=False)


@dataclass
class Kubeconfigs:
    """The kubeconfig of each component, written next to the certificates."""

    pki: Path
    server: str = f"https://{L.NODE_IP}:6443"
    names: dict[str, str] = field(default_factory=lambda: {
        "admin": "admin", "controller-manager": "controller-manager", "scheduler": "scheduler",
        "kube-proxy": "kube-proxy", "kubelet": "kubelet-client"})

    def path(self, component: str) -> Path:
        """Where a component's kubeconfig lives."""
        return self.pki / f"{component}.kubeconfig"

    def write_all(self) -> None:
        """Write one kubeconfig per component identity."""
        for component, cert in self.names.items():
            self.path(component).write_text(kubeconfig(
                server=self.server, ca=self.pki / "ca.crt", cert=self.pki / f"{cert}.crt",
                key=self.pki / f"{cert}.key", user=component))
            self.path(component).chmod(0o600)

    def user_kubeconfig(self) -> str:
        """The self-contained admin kubeconfig handed to the reader (context `podlab`)."""
        return kubeconfig(server=self.server, ca=self.pki / "ca.crt", cert=self.pki / "admin.crt",
                          key=self.pki / "admin.key", user="podlab-admin", embed=True)
