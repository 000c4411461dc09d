"""Cluster providers, tried in order: an existing lab context, kind, then the local build."""

from __future__ import annotations

import json
import sys

from .. import paths
from ..errors import PodlabError
from .base import ClusterInfo, Provider, Readiness

ORDER = ("existing", "kind", "local")


def get_provider(name: str, *, allow_context: str | None = None,
                 kubernetes_version: str | None = None) -> Provider:
    """The provider called `name` (`kubernetes_version` picks the release the local provider builds)."""
    if kubernetes_version and name != "local":
        raise PodlabError(f"--kubernetes-version applies to the local provider only, not to {name}.",
                          hint="The kind provider runs the node image pinned in kind-config.yaml; use "
                               "`podlab up --provider local --kubernetes-version X.Y.Z` for another release.")
    if name == "existing":
        from .existing import ExistingProvider
        return ExistingProvider(allow_context=allow_context)
    if name == "kind":
        from .kind import KindProvider
        return KindProvider()
    if name == "local":
        from .local.provider import LocalProvider
        return LocalProvider(kubernetes_version=kubernetes_version)
    raise PodlabError(f"Unknown provider {name!r}.", hint=f"Choose one of: {', '.join(ORDER)}.")


def check_all(*, allow_context: str | None = None) -> list[Readiness]:
    """Whether each provider can work here, in the order `up` tries them."""
    return [get_provider(name, allow_context=allow_context).check() for name in ORDER]


def _active_file():
    return paths.kubeconfig_path().with_suffix(".json")


def record_active(info: ClusterInfo) -> None:
    """Remember which provider runs the lab cluster, for `down` and `status`."""
    _active_file().parent.mkdir(parents=True, exist_ok=True)
    _active_file().write_text(json.dumps({"provider": info.provider, "context": info.context,
                                          "kubeconfig": str(info.kubeconfig) if info.kubeconfig else None}))


def active_record() -> dict | None:
    """What `podlab up` recorded about the cluster it started: provider, context, kubeconfig."""
    try:
        record = json.loads(_active_file().read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def active_provider_name() -> str | None:
    """The provider of the cluster `podlab up` last started, if any."""
    try:
        return json.loads(_active_file().read_text())["provider"]
    except (OSError, ValueError, KeyError):
        return None


def active_context() -> str | None:
    """The kube context `podlab up` last vetted and started labs on, if any."""
    try:
        return json.loads(_active_file().read_text())["context"]
    except (OSError, ValueError, KeyError):
        return None


def forget_active() -> None:
    """Forget the active cluster after `down`."""
    _active_file().unlink(missing_ok=True)


def up(provider: str | None = None, *, allow_context: str | None = None,
       kubernetes_version: str | None = None) -> ClusterInfo:
    """Bring up a lab cluster with the named provider, or the first one that can work here."""
    if kubernetes_version and not provider:
        provider = "local"      # only the local provider builds a chosen release
    if provider:
        chosen = get_provider(provider, allow_context=allow_context, kubernetes_version=kubernetes_version)
        readiness = chosen.check()
        if not readiness.usable and provider != "existing":
            raise PodlabError(f"The {provider} provider cannot work here:\n  - " + "\n  - ".join(readiness.missing),
                              hint="`podlab doctor` lists what each provider needs.")
    else:
        reports = []
        for name in ORDER:
            candidate = get_provider(name, allow_context=allow_context)
            readiness = candidate.check()
            reports.append(readiness)
            if readiness.usable:
                chosen = candidate
                break
        else:
            lines = [f"{r.provider}: " + "; ".join(r.missing) for r in reports]
            raise PodlabError("No provider can bring up a cluster here:\n  - " + "\n  - ".join(lines),
                              hint="Install what one of them needs (see `podlab doctor`), then run `podlab up` again.")
    print(f"podlab: using the {chosen.name} provider", file=sys.stderr)
    info = chosen.up()
    record_active(info)
    return info


def down(provider: str | None = None) -> str | None:
    """Stop the lab cluster podlab started; returns the provider that was stopped."""
    name = provider or active_provider_name()
    if name is None:
        from .local.provider import LocalProvider
        local = LocalProvider()
        if local.running() or (sys.platform.startswith("linux") and local.leftovers()):
            name = "local"
        else:
            return None
    get_provider(name).down()
    forget_active()
    return name
