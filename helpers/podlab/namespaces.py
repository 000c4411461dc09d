"""Deleting a lab's namespace fast: only the incarnation named by uid, its pods with a short grace period.

Shared by a lab's close(), `podlab clean` and the reaper process (which must not import the
session module: the session starts the reaper).
"""

from __future__ import annotations

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import api_error
from .timeouts import CLOSE_GRACE


def delete_namespace(api: client.ApiClient, namespace: str, *, uid: str | None = None) -> bool:
    """Start deleting the namespace (only the incarnation uid, if given); False when gone or not ours."""
    core = client.CoreV1Api(api)
    options = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=uid) if uid else None)
    try:
        core.delete_namespace(namespace, body=options)
        # Shorten the pods' grace period too: the namespace controller honours it.
        core.delete_collection_namespaced_pod(namespace, grace_period_seconds=CLOSE_GRACE)
    except ApiException as e:
        if e.status in (404, 409):  # gone already, or a newer incarnation that is not ours
            return False
        raise api_error(e, f"deleting namespace {namespace}") from None
    return True
