"""One API client per kubeconfig, loaded on first use and shared by every helper."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from .errors import PodlabError
from .paths import kubeconfig_path

_clients: dict[Path | None, client.ApiClient] = {}
_lock = threading.Lock()


def connect(kubeconfig: Path | None = None) -> client.ApiClient:
    """The API client for the lab cluster (podlab's kubeconfig if present), cached per process."""
    with _lock:
        api = _clients.get(kubeconfig)
        if api is None:
            api = client.ApiClient(_load_config(kubeconfig))
            api.user_agent = "podlab"
            _clients[kubeconfig] = api
        return api


def _load_config(kubeconfig: Path | None) -> client.Configuration:
    """Read the kubeconfig podlab should use: the explicit one, podlab's own, else the default."""
    path = kubeconfig
    if path is None and kubeconfig_path().exists():
        path = kubeconfig_path()
    if path is None:
        _refuse_unless_lab_context()
    if path is not None and not path.exists():
        raise PodlabError(f"No kubeconfig at {path}.",
                          hint="Start the lab cluster with `podlab up`, or pass an existing kubeconfig.")
    configuration = client.Configuration()
    try:
        # The client reads KUBECONFIG once at import; resolve it now so a later change counts.
        default = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
        config.load_kube_config(config_file=str(path) if path else default,
                                client_configuration=configuration, persist_config=False)
    except (ConfigException, OSError) as e:
        where = path or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise PodlabError(f"Cannot load a kubeconfig from {where}: {e}",
                          hint="Start the lab cluster with `podlab up` (it writes ~/.kube/podlab.config).") from e
    return configuration


def _refuse_unless_lab_context() -> None:
    """Raise ContextRefused unless the default kubeconfig's current context is a lab cluster.

    A context counts if it looks like one (kind-*, podlab), if it is allowed by name through
    PODLAB_ALLOW_CONTEXT, or if `podlab up` accepted it (it records the context it vetted).
    """
    from .cluster import active_context
    from .cluster.existing import ExistingProvider

    ExistingProvider(allow_context=active_context(), probe=None).resolve()
