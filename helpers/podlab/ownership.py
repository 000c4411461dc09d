"""What a lab session owns outside its own namespace, and removing all of it when the session ends.

A lab labels every cluster-scoped object it applies (a Namespace, a ClusterRole, a KWOK Node,
...) with SESSION_LABELS, as its own namespace is labelled. remove_session() finds the
session's objects through the API's aggregated discovery (every cluster-scoped resource that
can be listed and deleted) and deletes them, its namespaces included. An object in one of those
namespaces that carries a finalizer named `podlab.dev/...` would keep its namespace Terminating
for ever: when the namespace controller reports it (condition NamespaceFinalizersRemaining), the
`podlab.dev/` entries, and only those, are removed by JSON patch. Used by a lab's close(), by
the reaper process after a killed kernel, and by `podlab clean`; it never imports the session
module (the reaper must not). In classroom mode a session owns no namespace: remove_session_in()
deletes the objects labelled with the session inside the student's namespace, and only those.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import Resource, api_error, request_json
from .conditions import WaitCondition, deleted
from .namespaces import delete_namespace
from .timeouts import API_CONNECT, API_REQUEST, CLOSE_GRACE, DELETION
from .waiting import wait_until

MANAGED_BY = "app.kubernetes.io/managed-by"
LAB_LABEL = "podlab.dev/lab"
SESSION_LABEL = "podlab.dev/session"
FINALIZER_PREFIX = "podlab.dev/"
DISCOVERY = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
_SKIPPED = (403, 404, 405, 503)  # a resource this client may not list, or an aggregated API that is down


def session_labels(lab: str, session: str) -> dict[str, str]:
    """The labels that mark an object as owned by one lab session."""
    return {MANAGED_BY: "podlab", LAB_LABEL: lab, SESSION_LABEL: session}


# -- discovery ---------------------------------------------------------------------------------

def parse_discovery(listing: Mapping[str, Any], *, verbs: Sequence[str]) -> list[Resource]:
    """The resources of an APIGroupDiscoveryList that support verbs, each in its group's preferred version."""
    if listing.get("kind") != "APIGroupDiscoveryList":
        raise ValueError(f"not an aggregated discovery document: kind {listing.get('kind')!r}")
    found: dict[tuple[str, str], Resource] = {}
    for group in listing.get("items") or []:
        name = (group.get("metadata") or {}).get("name") or ""
        for version in group.get("versions") or []:  # preferred version first
            api_version = f"{name}/{version['version']}" if name else version["version"]
            for r in version.get("resources") or []:
                if (name, r["resource"]) in found or not set(verbs) <= set(r.get("verbs") or []):
                    continue
                kind = (r.get("responseKind") or {}).get("kind") or r["resource"]
                found[(name, r["resource"])] = Resource(api_version, kind, r["resource"],
                                                        r.get("scope") == "Namespaced")
    return list(found.values())


def served_resources(api: client.ApiClient, *, verbs: Sequence[str] = ("list", "delete")) -> list[Resource]:
    """Every resource the server serves that supports verbs (aggregated discovery of /api and /apis)."""
    resources: list[Resource] = []
    for root in ("/api", "/apis"):
        request = api.param_serialize("GET", root, header_params={"Accept": DISCOVERY},
                                      auth_settings=["BearerToken"])
        response = api.call_api(*request, _request_timeout=(API_CONNECT, API_REQUEST))
        data = response.read()
        if not 200 <= response.status <= 299:
            raise api_error(ApiException(status=response.status, reason=data.decode("utf-8", "replace")),
                            f"discovering {root}")
        resources += parse_discovery(json.loads(data), verbs=verbs)
    return resources


# -- finalizers --------------------------------------------------------------------------------

def podlab_finalizers(finalizers: Iterable[str]) -> list[str]:
    """The finalizers podlab may remove: those named podlab.dev/..."""
    return [f for f in finalizers if f.startswith(FINALIZER_PREFIX)]


def release_patch(obj: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The JSON patch that removes only the podlab.dev/ finalizers (None: there are none).

    It tests the whole list first, so a finalizer added or removed meanwhile fails the patch
    (HTTP 422) instead of being dropped.
    """
    current = list((obj.get("metadata") or {}).get("finalizers") or [])
    if not podlab_finalizers(current):
        return None
    remaining = [f for f in current if not f.startswith(FINALIZER_PREFIX)]
    return [{"op": "test", "path": "/metadata/finalizers", "value": current},
            {"op": "replace", "path": "/metadata/finalizers", "value": remaining}]


def held_by_podlab(namespace: Mapping[str, Any] | None) -> bool:
    """Whether the namespace controller reports content held by a podlab.dev/ finalizer."""
    for c in ((namespace or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == "NamespaceFinalizersRemaining" and c.get("status") == "True":
            # "Some content in the namespace has finalizers remaining: podlab.dev/hold in 1 resource instances, ..."
            named = (c.get("message") or "").split(": ", 1)[-1].split(", ")
            if podlab_finalizers(entry.split(" in ")[0] for entry in named):
                return True
    return False


def release(api: client.ApiClient, resource: Resource, obj: Mapping[str, Any]) -> bool:
    """Remove the object's podlab.dev/ finalizers (re-reading it if it changed meanwhile); False if none."""
    metadata = obj["metadata"]
    path = resource.path(metadata.get("namespace"), metadata["name"])
    for _ in range(3):
        patch = release_patch(obj)
        if patch is None:
            return False
        try:
            request_json(api, "PATCH", path, body=patch, content_type="application/json-patch+json")
            return True
        except ApiException as e:
            if e.status == 404:
                return False
            if e.status != 422:  # 422: the test failed, the list changed: read it again
                raise api_error(e, f"releasing the finalizers of {resource.plural}/{metadata['name']}") from None
        try:
            obj = request_json(api, "GET", path)
        except ApiException as e:
            if e.status == 404:
                return False
            raise api_error(e, f"reading {resource.plural}/{metadata['name']}") from None
    raise api_error(ApiException(status=409, reason="its finalizers kept changing"),
                    f"releasing the finalizers of {resource.plural}/{metadata['name']}")


def release_namespace(api: client.ApiClient, namespace: str,
                      resources: Sequence[Resource] | None = None) -> list[str]:
    """Remove the podlab.dev/ finalizers of every object in the namespace; return kind/name of each released."""
    if resources is None:
        resources = served_resources(api, verbs=("list", "patch"))
    released = []
    for resource in resources:
        if not resource.namespaced:
            continue
        for obj in _list(api, resource, namespace):
            if podlab_finalizers(obj["metadata"].get("finalizers") or []) and release(api, resource, obj):
                released.append(f"{resource.kind.lower()}/{obj['metadata']['name']}")
    return released


# -- a session's objects -----------------------------------------------------------------------

def owned_objects(api: client.ApiClient, selector: str,
                  resources: Sequence[Resource] | None = None) -> list[tuple[Resource, dict[str, Any]]]:
    """The cluster-scoped objects whose labels match selector, with their resources."""
    if resources is None:
        resources = served_resources(api)
    return [(r, obj) for r in resources if not r.namespaced for obj in _list(api, r, None, selector)]


def remove_session(api: client.ApiClient, session: str, *, wait: bool = True,
                   timeout: float = DELETION) -> list[str]:
    """Delete every cluster-scoped object labelled with the session, its namespaces included, and
    release podlab.dev/ finalizers that hold them; wait until all are gone unless wait=False.

    Returns kind/name of each object deleted. Without wait, a namespace whose content is not yet
    reported held is left to finish on its own (the reaper, or the next clean, waits for it).
    """
    deadline = time.monotonic() + timeout
    resources = served_resources(api, verbs=("list", "delete"))
    owned = owned_objects(api, f"{SESSION_LABEL}={session}", resources)
    removed: list[tuple[Resource, dict[str, Any]]] = []
    for resource, obj in owned:
        if _delete(api, resource, obj):
            removed.append((resource, obj))
    namespaced = None  # resources to scan for finalizers, discovered only when a namespace needs it
    for resource, obj in removed:
        name = obj["metadata"]["name"]
        if resource.kind != "Namespace" or resource.api_version != "v1":
            release(api, resource, obj)  # a podlab.dev/ finalizer on the object itself
            if wait:
                wait_until(None, name, deleted, kind=resource.kind, api_version=resource.api_version,
                           timeout=max(1.0, deadline - time.monotonic()), api=api)
            continue
        state = obj if held_by_podlab(obj) else None
        if state is None and wait:
            state = wait_until(None, name, _GONE_OR_HELD, kind="Namespace",
                               timeout=max(1.0, deadline - time.monotonic()), api=api)
        if state is not None:
            namespaced = namespaced or served_resources(api, verbs=("list", "patch"))
            release_namespace(api, name, namespaced)
            if wait:
                wait_until(None, name, deleted, kind="Namespace",
                           timeout=max(1.0, deadline - time.monotonic()), api=api)
    return [f"{r.kind.lower()}/{obj['metadata']['name']}" for r, obj in removed]


def session_objects(api: client.ApiClient, namespace: str, selector: str,
                    resources: Sequence[Resource] | None = None) -> list[tuple[Resource, dict[str, Any]]]:
    """The objects in namespace whose labels match selector, with their resources (kinds this client may not list: none)."""
    if resources is None:
        resources = served_resources(api)
    return [(r, obj) for r in resources if r.namespaced for obj in _list(api, r, namespace, selector)]


def remove_session_in(api: client.ApiClient, namespace: str, session: str, *, wait: bool = True,
                      timeout: float = DELETION) -> list[str]:
    """Delete the objects labelled with the session in a namespace the session does not own (classroom
    mode: the student's), and nothing else there; wait until they and their dependents are gone unless wait=False.

    Deleted by uid in the foreground, so an owner (a Deployment) goes only after its dependents (its
    ReplicaSets and their pods); pods with the short grace period a closing lab gives them. An object
    a controller made for its owner is left to the garbage collector: the EndpointSlice controller
    copies a Service's labels, session label included, to its slices, which a student may not delete.
    Returns kind/name of each object deleted.
    """
    deadline = time.monotonic() + timeout
    removed = []
    for resource, obj in session_objects(api, namespace, f"{SESSION_LABEL}={session}",
                                         served_resources(api, verbs=("list", "delete"))):
        metadata = obj["metadata"]
        if any(ref.get("controller") for ref in metadata.get("ownerReferences") or []):
            continue  # made by its owner's controller, which copied the labels (a Service's EndpointSlices): goes with it
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground",
                                   "preconditions": {"uid": metadata["uid"]}}
        if (resource.api_version, resource.kind) == ("v1", "Pod"):
            options["gracePeriodSeconds"] = CLOSE_GRACE
        try:
            request_json(api, "DELETE", resource.path(namespace, metadata["name"]), body=options)
        except ApiException as e:
            if e.status in (404, 409):  # gone already, or a newer incarnation that is not ours
                continue
            raise api_error(e, f"deleting {resource.kind.lower()}/{metadata['name']}") from None
        removed.append((resource, obj))
    for resource, obj in removed:
        release(api, resource, obj)  # a podlab.dev/ finalizer would keep it for ever
        if wait:
            wait_until(namespace, obj["metadata"]["name"], _gone_incarnation(obj["metadata"]["uid"]),
                       kind=resource.kind, api_version=resource.api_version,
                       timeout=max(1.0, deadline - time.monotonic()), api=api)
    return [f"{r.kind.lower()}/{obj['metadata']['name']}" for r, obj in removed]


def _gone_incarnation(uid: str) -> WaitCondition:
    """Deleted, or replaced by a newer object of the same name (another session's: not ours to wait for)."""
    return WaitCondition("deleted", lambda obj: obj is None or obj["metadata"].get("uid") != uid)


_GONE_OR_HELD = WaitCondition("deleted, or held by a podlab.dev/ finalizer",
                              lambda ns: ns is None or held_by_podlab(ns))


def _delete(api: client.ApiClient, resource: Resource, obj: Mapping[str, Any]) -> bool:
    """Delete this incarnation of the object (by uid); False if it is gone already."""
    metadata = obj["metadata"]
    if resource.kind == "Namespace" and resource.api_version == "v1":
        # also shortens its pods' grace period; 409 there: already Terminating (or not ours)
        return delete_namespace(api, metadata["name"], uid=metadata["uid"]) or bool(metadata.get("deletionTimestamp"))
    options = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background",
               "preconditions": {"uid": metadata["uid"]}}
    try:
        request_json(api, "DELETE", resource.path(None, metadata["name"]), body=options)
    except ApiException as e:
        if e.status in (404, 409):  # gone already, or a newer incarnation that is not ours
            return False
        raise api_error(e, f"deleting {resource.kind.lower()}/{metadata['name']}") from None
    return True


def _list(api: client.ApiClient, resource: Resource, namespace: str | None,
          selector: str | None = None) -> list[dict[str, Any]]:
    query = [("labelSelector", selector)] if selector else []
    try:
        listing = request_json(api, "GET", resource.path(namespace), query=query)
    except ApiException as e:
        if e.status in _SKIPPED:  # nothing of the session's can be there for this client
            return []
        raise api_error(e, f"listing {resource.plural}") from None
    return listing.get("items") or []
