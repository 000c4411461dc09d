"""Use the cluster of the current kube context, but only if it is a lab cluster."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from podlab.cluster.base import ClusterInfo, Readiness
from podlab.errors import ContextRefused, PodlabError, ProviderUnavailable

ALLOW_ENV = "PODLAB_ALLOW_CONTEXT"
LAB_CONTEXT_PREFIX = "kind-"
LOCAL_CONTEXT = "podlab"  # the context the local provider writes
CREATE_HINT = "or let podlab make a lab cluster: `podlab up --provider kind` (needs Docker) or `podlab up --provider local`"


@dataclass(frozen=True)
class KubeContext:
    """The current context of a kubeconfig and the cluster it points to."""

    name: str
    server: str
    files: tuple[Path, ...]


def kubeconfig_files() -> tuple[Path, ...]:
    """The kubeconfig files podlab reads: those in KUBECONFIG, else ~/.kube/config."""
    listed = os.environ.get("KUBECONFIG", "")
    files = tuple(Path(p).expanduser() for p in listed.split(os.pathsep) if p)
    return files or (Path("~/.kube/config").expanduser(),)


def _by_name(entries: object, key: str) -> dict[str, dict]:
    """A kubeconfig list (contexts or clusters) as {name: entry[key]}."""
    if not isinstance(entries, list):
        return {}
    return {e["name"]: e.get(key) if isinstance(e.get(key), dict) else {}
            for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)}


def current_context(files: tuple[Path, ...] | None = None) -> KubeContext:
    """Read the current context like kubectl does (first file setting a value wins)."""
    files = files if files is not None else kubeconfig_files()
    present = [f for f in files if f.is_file()]
    shown = os.pathsep.join(str(f) for f in files)
    if not present:
        raise ProviderUnavailable(
            f"No kubeconfig found (looked at {shown}).",
            hint=f"Point KUBECONFIG at the kubeconfig of a lab cluster, {CREATE_HINT}.")
    current, contexts, clusters = "", {}, {}
    for f in present:
        try:
            doc = yaml.safe_load(f.read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ProviderUnavailable(
                f"Cannot read kubeconfig {f}: {e}",
                hint=f"Fix or move that file, {CREATE_HINT}.") from e
        if not isinstance(doc, dict):
            raise ProviderUnavailable(f"Kubeconfig {f} is not a kubeconfig (not a YAML mapping).",
                                      hint=f"Fix or move that file, {CREATE_HINT}.")
        current = current or doc.get("current-context") or ""
        contexts = {**_by_name(doc.get("contexts"), "context"), **contexts}
        clusters = {**_by_name(doc.get("clusters"), "cluster"), **clusters}
    if not current:
        raise ProviderUnavailable(
            f"Kubeconfig {shown} has no current context.",
            hint=f"Choose one with `kubectl config use-context NAME`, {CREATE_HINT}.")
    if current not in contexts:
        raise ProviderUnavailable(
            f"The current context '{current}' is not defined in {shown}.",
            hint=f"Choose a defined one with `kubectl config get-contexts` and "
                 f"`kubectl config use-context NAME`, {CREATE_HINT}.")
    cluster = clusters.get(contexts[current].get("cluster", ""), {})
    return KubeContext(current, cluster.get("server") or "<no server in kubeconfig>", tuple(present))


def lab_reason(context: str, allowed: tuple[str, ...]) -> str | None:
    """Why a context counts as a lab cluster, or None if it does not."""
    if context.startswith(LAB_CONTEXT_PREFIX):
        return f"a kind cluster (name starts with '{LAB_CONTEXT_PREFIX}')"
    if context == LOCAL_CONTEXT:
        return "the cluster of podlab's local provider"
    if context in allowed:
        return "allowed explicitly by name"
    return None


def probe_api_server(ctx: KubeContext, timeout: float = 5.0) -> str | None:
    """Ask the API server for its version; None if it answers, else why not."""
    try:
        from kubernetes import client, config

        config_file = str(ctx.files[0]) if len(ctx.files) == 1 else None
        api = config.new_client_from_config(config_file=config_file, context=ctx.name)
        client.VersionApi(api).get_code(_request_timeout=timeout)
    except Exception as e:  # any failure means: not usable now
        lines = str(e).strip().splitlines()
        return f"{type(e).__name__}: {lines[0]}" if lines else type(e).__name__
    return None


class ExistingProvider:
    """The cluster of the current kube context, accepted only if it is a lab cluster."""

    name = "existing"

    def __init__(self, allow_context: str | None = None, *,
                 probe: Callable[[KubeContext], str | None] | None = probe_api_server) -> None:
        self.allow_context = allow_context
        self.probe = probe

    def allowed_contexts(self) -> tuple[str, ...]:
        """Context names allowed explicitly: the --allow-context flag and PODLAB_ALLOW_CONTEXT."""
        names = (self.allow_context, os.environ.get(ALLOW_ENV))
        return tuple(n.strip() for n in names if n and n.strip())

    def resolve(self) -> tuple[KubeContext, str]:
        """The current context and why it counts as a lab cluster; raise if it does not."""
        ctx = current_context()
        allowed = self.allowed_contexts()
        reason = lab_reason(ctx.name, allowed)
        if reason is None:
            other = f" (allowed: {', '.join(repr(a) for a in allowed)} — a different name)" if allowed else ""
            raise ContextRefused(
                f"The current kube context '{ctx.name}' (server {ctx.server}) is not a podlab lab "
                f"cluster, so podlab will not run labs against it{other}.",
                hint=f"If that cluster is meant for labs, allow it by its exact name: "
                     f"`podlab up --allow-context {ctx.name}` or `export {ALLOW_ENV}={ctx.name}`; "
                     f"{CREATE_HINT}.")
        return ctx, reason

    def check(self) -> Readiness:
        """Whether the current context is an answering lab cluster (never raises)."""
        try:
            ctx, reason = self.resolve()
            failure = self.probe(ctx) if self.probe else None
        except PodlabError as e:
            return Readiness(self.name, False, missing=(e.message,), notes=(e.hint,) if e.hint else ())
        except Exception as e:  # check() reports, it does not raise
            return Readiness(self.name, False, missing=(f"cannot read the kube context: {e}",))
        if failure:
            return Readiness(self.name, False,
                             missing=(f"context '{ctx.name}' (server {ctx.server}) does not answer: {failure}",),
                             notes=(f"start that cluster again, or {CREATE_HINT}",))
        return Readiness(self.name, True, notes=(f"context '{ctx.name}' at {ctx.server}: {reason}",))

    def up(self) -> ClusterInfo:
        """Return how to reach the current context's cluster if it is a lab cluster."""
        ctx, _ = self.resolve()
        kubeconfig = ctx.files[0] if len(ctx.files) == 1 else None  # None: merge KUBECONFIG
        return ClusterInfo(provider=self.name, context=ctx.name, kubeconfig=kubeconfig)

    def down(self) -> None:
        """Do nothing: podlab did not create this cluster, so it leaves it running."""
        print("existing: podlab did not create this cluster and leaves it as it is.", file=sys.stderr)

    def status(self) -> str:
        """One line: which context would be used, or why none would."""
        try:
            ctx, reason = self.resolve()
        except PodlabError as e:
            return f"existing: not usable — {e.message}"
        return f"existing: context '{ctx.name}' at {ctx.server} ({reason})"
