"""Plumbing for any API resource: kind → REST path, JSON requests, watch streams, Status errors.

The generated clients have one method per kind; labs apply and wait for arbitrary kinds,
so podlab talks to the REST paths directly through the same authenticated ApiClient.
"""

from __future__ import annotations

import ast
import json
import threading
import weakref
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator, Sequence

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from .errors import ApiRejected, ClusterUnreachable, PodlabError
from .hints import Context, hint_for
from .timeouts import API_CONNECT, API_REQUEST

Query = Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class Resource:
    """How a kind is served: its plural resource name and whether it lives in a namespace."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The REST path of the collection, or of one object when name is given."""
        root = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        scope = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        return f"{root}{scope}/{self.plural}" + (f"/{name}" if name else "")


_discovery: weakref.WeakKeyDictionary[client.ApiClient, dict[str, dict[str, Resource]]] = (
    weakref.WeakKeyDictionary())
_discovery_lock = threading.Lock()


def resource_for(api: client.ApiClient, api_version: str, kind: str) -> Resource:
    """Find how the server serves kind in api_version (discovery, cached per client)."""
    for refresh in (False, True):  # a cached list may predate a CRD: refresh once
        kinds = _kinds_in(api, api_version, refresh=refresh)
        if kind in kinds:
            return kinds[kind]
    raise PodlabError(f"The cluster serves no kind {kind!r} in apiVersion {api_version!r}.",
                      hint="Check apiVersion and kind; `kubectl api-resources` lists what the cluster serves.")


def _kinds_in(api: client.ApiClient, api_version: str, *, refresh: bool) -> dict[str, Resource]:
    with _discovery_lock:
        cached = _discovery.setdefault(api, {})
        if api_version in cached and not refresh:
            return cached[api_version]
    root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    try:
        listing = request_json(api, "GET", root)
    except ApiException as e:
        if e.status == 404:
            return {}
        raise api_error(e, f"discovering {api_version}") from e
    kinds = {r["kind"]: Resource(api_version, r["kind"], r["name"], bool(r.get("namespaced")))
             for r in listing.get("resources", []) if "/" not in r["name"]}  # skip subresources
    with _discovery_lock:
        _discovery.setdefault(api, {})[api_version] = kinds
    return kinds


def request_json(api: client.ApiClient, method: str, path: str, *, query: Query = (),
                 body: Any = None, content_type: str = "application/json",
                 timeout: float = API_REQUEST) -> dict[str, Any]:
    """Send one request and return the decoded JSON reply; non-2xx raises ApiException."""
    response = _send(api, method, path, query=query, body=body, content_type=content_type,
                     timeout=(API_CONNECT, timeout))
    data = response.read()
    _raise_for_status(response, data)
    return json.loads(data) if data else {}


@dataclass(frozen=True)
class ServerReply:
    """What the API server answered to one request: the HTTP status and its message (or reply text)."""

    status: int
    message: str


def send_request(api: client.ApiClient, method: str, path: str, *, body: Any = None,
                 content_type: str = "application/json", query: Query = ()) -> ServerReply:
    """Send one request as a client would and return the answer, whatever its status (never raises on 4xx/5xx)."""
    if content_type == "application/apply-patch+yaml":
        query = [*query, ("fieldManager", "podlab")]
    response = _send(api, method, path, query=query, body=body, content_type=content_type,
                     timeout=(API_CONNECT, API_REQUEST))
    text = response.read().decode("utf-8", "replace")
    try:
        reply = json.loads(text)
    except ValueError:
        return ServerReply(response.status, text.strip())
    message = reply.get("message") if isinstance(reply, dict) and reply.get("kind") == "Status" else None
    return ServerReply(response.status, message if message is not None else text.strip())


class WatchExpired(Exception):
    """The watch cannot go on from its resourceVersion (410 Gone, or its stream broke): relist."""


def watch_events(api: client.ApiClient, path: str, *, query: Query, resource_version: str,
                 timeout_seconds: int) -> Iterator[dict[str, Any]]:
    """Stream raw watch events ({"type", "object"}) of a collection from resource_version.

    The server ends the stream after timeout_seconds; the client gives up reading a little
    later in case the connection silently dies. HTTP 410, or a stream that breaks, raises
    WatchExpired: the caller relists, which also surfaces a server that has really gone away.
    """
    params = [*query, ("watch", True), ("resourceVersion", resource_version),
              ("allowWatchBookmarks", True), ("timeoutSeconds", timeout_seconds)]
    response = _send(api, "GET", path, query=params, body=None, content_type="application/json",
                     timeout=(API_CONNECT, timeout_seconds + API_CONNECT))
    raw = response.response
    try:
        if response.status == 410:
            raise WatchExpired(response.read().decode("utf-8", "replace"))
        if not 200 <= response.status <= 299:
            _raise_for_status(response, response.read())
        try:
            for line in raw:
                if line.strip():
                    yield json.loads(line)
        except HTTPError as e:  # connection reset, read timeout, truncated chunk
            raise WatchExpired(f"the watch stream broke: {e}") from e
    finally:
        raw.release_conn()


def _send(api: client.ApiClient, method: str, path: str, *, query: Query, body: Any,
          content_type: str, timeout: tuple[float, float]) -> Any:
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    request = api.param_serialize(method, path, query_params=list(query), header_params=headers,
                                  body=body, auth_settings=["BearerToken"])
    try:
        return api.call_api(*request, _request_timeout=timeout)
    except HTTPError as e:  # refused, reset, timed out: no answer from the API server
        raise ClusterUnreachable(f"The API server at {api.configuration.host} did not answer ({method} {path}): "
                                 f"{type(e).__name__}", hint=f"Is the lab cluster up (`podlab status`)?") from e


def _raise_for_status(response: Any, data: bytes) -> None:
    if not 200 <= response.status <= 299:
        raise ApiException.from_response(http_resp=response, body=data.decode("utf-8", "replace"),
                                         data=None)


def _handshake_body(reason: str) -> str:
    # A refused websocket upgrade (exec, attach) reaches us as kubernetes.stream's ApiException(status=0,
    # reason=str(WebSocketBadStatusException)): "Handshake status 404 Not Found -+-+- {headers} -+-+- {body}",
    # the body decoded by websocket-client 1.9 (websocket/_handshake.py) and b'...' in older releases;
    # the API server's JSON ends with a newline. No separator: nothing came back but a status line.
    if not reason.startswith("Handshake status ") or " -+-+- " not in reason:
        return ""
    tail = reason.rpartition(" -+-+- ")[2].strip()
    if tail[:2] in ("b'", 'b"'):
        try:
            tail = ast.literal_eval(tail).decode("utf-8", "replace").strip()
        except (ValueError, SyntaxError):
            return ""
    return "" if tail == "None" else tail


def status_of(e: ApiException) -> dict[str, Any]:
    """The Kubernetes Status object carried by an API error (empty if the body isn't one)."""
    body = e.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body and e.status == 0 and e.reason:
        body = _handshake_body(str(e.reason))
    try:
        status = json.loads(body) if body else {}
    except ValueError:
        return {"message": body}
    return status if isinstance(status, dict) else {}


def api_error(e: ApiException, doing: str | None, *, fallback_hint: str | None = None,
              context: Context | None = None) -> PodlabError:
    """ApiRejected with the server's code, reason and message, and the hints table's next step.

    A server that never answered (code 0) gives a plain PodlabError: nothing was rejected.
    """
    status = status_of(e)
    code = status.get("code") or e.status or 0
    message = status.get("message") or e.reason or f"HTTP {code}"
    causes = (status.get("details") or {}).get("causes") or []
    fields = ", ".join(dict.fromkeys(str(c["field"]) for c in causes if c.get("field")))
    hint = hint_for(code, status.get("reason"), message,
                    context={**(context or {}), "fields": fields}) or fallback_hint
    if not code:
        return ClusterUnreachable(f"{message} (while {doing})" if doing else message, hint=hint)
    return ApiRejected(code, status.get("reason") or "", message, doing=doing, hint=hint, causes=causes)
