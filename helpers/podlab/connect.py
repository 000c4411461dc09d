"""One API client per kubeconfig, loaded on first use and shared by every helper.

Which cluster podlab talks to, in this order (the first that applies wins):

1. a kubeconfig passed explicitly (``open_lab(..., kubeconfig=PATH)``);
2. ``KUBECONFIG``, when it is set, exactly as kubectl reads it (its current context must be a
   lab cluster: ``kind-*``, ``podlab``, or allowed by name with ``PODLAB_ALLOW_CONTEXT``);
3. the cluster ``podlab up`` last brought up (it records provider, context and kubeconfig);
4. ``~/.kube/config``'s current context, with the same lab-cluster rule as in 2.

A student's kubeconfig from ``podlab classroom create`` (its current context marked
``podlab.dev/classroom``, see podlab.classmode) is accepted under rules 2 and 4 whatever its
context is called: its token reaches one namespace and nothing else.

So setting ``KUBECONFIG`` always means what it means to kubectl, and a refused context is
named, never silently replaced by another cluster. ``open_lab`` prints which one it used.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from .errors import PodlabError

if TYPE_CHECKING:
    from .classmode import Classroom

_clients: dict[Path | None, client.ApiClient] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Connection:
    """Which cluster a client talks to, and why."""

    provider: str            # local, kind, or existing
    context: str
    kubeconfig: Path | None  # None: kubectl's default loading (KUBECONFIG or ~/.kube/config)
    rule: str                # which of the module's rules chose it
    classroom: Classroom | None = None  # a student's kubeconfig (podlab.classmode): labs work in its namespace


def choose_kubeconfig(explicit: Path | None = None) -> Connection:
    """Apply the rule above; raise ContextRefused for a context that is not a lab cluster."""
    from .cluster import active_record
    from .cluster.existing import ExistingProvider

    if explicit is not None:
        if not explicit.exists():
            raise PodlabError(f"No kubeconfig at {explicit}.",
                              hint="Start the lab cluster with `podlab up`, or pass an existing kubeconfig.")
        from .classmode import current_classroom
        return Connection("existing", _current_context_name(explicit), explicit, "passed explicitly",
                          current_classroom([explicit]))
    record = active_record()
    if os.environ.get("KUBECONFIG"):
        classroom = _classroom_context()
        if classroom is not None:  # a student's kubeconfig from `podlab classroom create`: one namespace, no more
            return Connection("existing", classroom.context, None, f"KUBECONFIG, course {classroom.course}", classroom)
        ctx, _reason = ExistingProvider(allow_context=record.get("context") if record else None,
                                        probe=None).resolve()
        provider = record["provider"] if record and record.get("context") == ctx.name else "existing"
        return Connection(provider, ctx.name, None, "KUBECONFIG")
    if record and record.get("kubeconfig") and Path(record["kubeconfig"]).exists():
        path = Path(record["kubeconfig"])
        if _current_context_name(path) == record.get("context"):
            return Connection(record["provider"], record["context"], path, "recorded by `podlab up`")
    classroom = _classroom_context()
    if classroom is not None:
        return Connection("existing", classroom.context, None, f"~/.kube/config, course {classroom.course}",
                          classroom)
    ctx, _reason = ExistingProvider(allow_context=record.get("context") if record else None, probe=None).resolve()
    provider = record["provider"] if record and record.get("context") == ctx.name else "existing"
    return Connection(provider, ctx.name, None, "~/.kube/config")


def _classroom_context() -> Classroom | None:
    """The classroom KUBECONFIG's (else ~/.kube/config's) current context marks, if any (podlab.classmode)."""
    from .classmode import current_classroom, kubeconfig_files

    return current_classroom(kubeconfig_files(None))


def _current_context_name(path: Path) -> str:
    try:
        return str((yaml.safe_load(path.read_text()) or {}).get("current-context") or "")
    except (OSError, yaml.YAMLError):
        return ""


def connect(kubeconfig: Path | None = None) -> client.ApiClient:
    """The API client for the lab cluster chosen by the module's rule, cached per process."""
    with _lock:
        api = _clients.get(kubeconfig)
        if api is None:
            api = client.ApiClient(_load_config(choose_kubeconfig(kubeconfig)))
            api.user_agent = "podlab"
            _clients[kubeconfig] = api
        return api


def forget_clients() -> None:
    """Drop the cached clients (after the cluster was recreated with new certificates)."""
    with _lock:
        _clients.clear()


def connection(kubeconfig: Path | None = None) -> Connection:
    """Which cluster connect(kubeconfig) talks to."""
    return choose_kubeconfig(kubeconfig)


def server_version(api: client.ApiClient) -> str:
    """The API server's version (gitVersion, e.g. v1.37.2)."""
    return client.VersionApi(api).get_code().git_version


def _load_config(chosen: Connection) -> client.Configuration:
    configuration = client.Configuration()
    # The client reads KUBECONFIG once at import; resolve it now so a later change counts.
    source = str(chosen.kubeconfig) if chosen.kubeconfig else (
        os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config"))
    try:
        # A KUBECONFIG list (a:b) is merged the way kubectl merges it.
        config.load_kube_config(config_file=source, client_configuration=configuration, persist_config=False)
    except (ConfigException, OSError) as e:
        raise PodlabError(f"Cannot load a kubeconfig from {source}: {e}",
                          hint="Start the lab cluster with `podlab up` (it writes ~/.kube/podlab.config).") from e
    return configuration
