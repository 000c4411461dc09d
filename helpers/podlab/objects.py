"""The one object type podlab returns: get(), pod() and every wait give a KubeObject.

Why a small wrapper rather than the kubernetes client's models (V1Pod, ...) or plain dicts:
labs read objects of any kind, CRDs and EndpointSlices included, as the server serves them
(`svc["spec"]["clusterIP"]`, json.dumps, comparison with a dict), and they read pods the
way the client's documentation and the book's older chapters do (`pod.status.pod_ip`,
`pod.spec.node_name`, datetimes parsed). A KubeObject is both: a dict of the object's JSON,
exactly as served, whose attributes read the client's typed model of it (built on first
use, for every kind the client has a model of). So one value serves both spellings, and
a chapter never has to know which helper returned it. Treat it as a snapshot: the model
is decoded once and does not follow later edits of the dict.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes import client

from . import podstate

_decoder: client.ApiClient | None = None
_decoder_lock = threading.Lock()


class KubeObject(dict):
    """An API object as served (a dict of its JSON) that reads like the client's model by attribute."""

    def __init__(self, raw: Mapping[str, Any], *, kind: str | None = None,
                 api_version: str | None = None) -> None:
        super().__init__(raw)
        if kind and "kind" not in self:  # items of a list reply carry no kind or apiVersion
            self["kind"] = kind
        if api_version and "apiVersion" not in self:
            self["apiVersion"] = api_version

    @property
    def model(self) -> Any:
        """The kubernetes client's typed model of this object (e.g. a V1Pod), None for unmodelled kinds."""
        if "_model" not in self.__dict__:
            name = model_name(str(self.get("apiVersion", "")), str(self.get("kind", "")))
            self.__dict__["_model"] = _decode(dict(self), name) if name else None
        return self.__dict__["_model"]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        model = self.model
        if model is None:
            raise AttributeError(f"{self!r}: the kubernetes client has no model of kind {self.get('kind')!r}, "
                                 f"so read its fields as a dict: obj[{name!r}] (fields are camelCase)")
        return getattr(model, name)

    def __dir__(self) -> list[str]:
        model = self.model
        return sorted(set(super().__dir__()) | set(getattr(model, "openapi_types", {})))

    def __repr__(self) -> str:
        return f"{str(self.get('kind', '?')).lower()}/{(self.get('metadata') or {}).get('name', '?')}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """In a notebook: pods as `pod/demo: Running, Ready=True`, other kinds as kind/name."""
        printer.text(podstate.pod_line(self) if self.get("kind") == "Pod" else repr(self))


class KubeObjects(list):
    """Objects selected by labels (names often generated); displays as their kind and count."""

    def __init__(self, items: Iterable[Mapping[str, Any]], kind: str) -> None:
        super().__init__(o if isinstance(o, KubeObject) else KubeObject(o, kind=kind) for o in items)
        self.kind = kind.lower()

    def __repr__(self) -> str:
        return f"{len(self)} {self.kind} object{'s' * (len(self) != 1)}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@functools.lru_cache(maxsize=None)
def model_name(api_version: str, kind: str) -> str | None:
    """The client's model class for a kind (v1 Pod → V1Pod, events.k8s.io/v1 Event → EventsV1Event)."""
    if not kind or not api_version:
        return None
    group, _, version = api_version.rpartition("/")
    version = version[:1].upper() + version[1:]
    prefix = group.split(".")[0].capitalize() if group else "Core"
    for name in (f"{version}{kind}", f"{prefix}{version}{kind}"):
        if hasattr(getattr(client, name, None), "openapi_types"):
            return name
    return None


def _decode(raw: dict[str, Any], model: str) -> Any:
    global _decoder
    with _decoder_lock:
        if _decoder is None:
            _decoder = client.ApiClient()  # only decodes: never connects anywhere
    return _decoder.deserialize(json.dumps(raw), model, "application/json")
