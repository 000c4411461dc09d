"""The one object type podlab returns: get(), pod(), events() and every wait give a KubeObject.

A KubeObject is a dict of the object's JSON exactly as the API server served it, read by
attribute in the same camelCase that manifests use (as kr8s's APIObject reads `raw`):

    pod.status.podIP == pod["status"]["podIP"]
    pod.spec.containers[0].name
    pod.metadata.creationTimestamp      # the string as served: parse it to compute with it
    pod.metadata.labels["app.kubernetes.io/name"]   # keys that are not identifiers: []

Nested objects (lists of them too) read the same way, and every one of them stays a dict:
json.dumps, comparison with a dict and obj["spec"]["x"] all work. A field the server left
out is absent, not None: reading it raises an AttributeError that names the field and lists
the fields present; read an optional field with .get("field"). Field names that are also
dict methods (items, values, keys, get, ...) read with [] only: `selector["values"]`.

Treat a KubeObject as a snapshot of what was served: nothing re-reads the cluster.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["KubeObject", "KubeObjects", "Fields", "as_object", "parse_time", "pod_line"]

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class Fields(dict):
    """A JSON object (a dict) whose fields also read as attributes, nested objects wrapped alike."""

    __slots__ = ("_where",)

    def __init__(self, raw: Mapping[str, Any] | None = None, *, where: str = "object") -> None:
        super().__init__()
        self._where = where
        for key, value in (raw or {}).items():
            dict.__setitem__(self, key, _wrap(value, _child(where, key)))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self:
            return self._field(name)
        raise AttributeError(self._missing(name))

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_where":
            super().__setattr__(name, value)
            return
        raise AttributeError(f"{self._where}: attributes only read fields; set one with [], "
                             f"e.g. obj[{name!r}] = ... (it then reads as obj.{name})")

    def _spelled(self, name: str) -> str | None:
        """The present field that a snake_case name spells (pod_ip → podIP), None if there is none."""
        if "_" not in name:
            return None
        squeezed = name.replace("_", "").lower()
        return next((k for k in self if isinstance(k, str) and k.lower() == squeezed), None)

    def _field(self, key: str) -> Any:
        value = dict.__getitem__(self, key)
        wrapped = _wrap(value, _child(self._where, key), in_place=True)
        if wrapped is not value:
            dict.__setitem__(self, key, wrapped)  # a plain dict stored after construction: wrap it once
        return wrapped

    def _missing(self, name: str) -> str:
        message = f"{self._where} has no field {name!r}"
        camel = self._spelled(name) or camel_case(name)
        if camel != name:
            message += f"; fields are camelCase: {camel!r}" + ("" if camel in self else ", which is absent too")
        present = ", ".join(str(k) for k in self) or "none"
        return f"{message}. Fields present: {present} (an optional field may be left out: read it with .get({camel!r}))"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {k for k in self if isinstance(k, str) and _IDENTIFIER.match(k)})


class KubeObject(Fields):
    """An API object as served: a dict of its JSON whose fields read by attribute, in camelCase."""

    __slots__ = ()

    def __init__(self, raw: Mapping[str, Any], *, kind: str | None = None,
                 api_version: str | None = None) -> None:
        found = str(raw.get("kind") or kind or "object")
        super().__init__(raw, where=found.lower())
        if kind and "kind" not in self:  # items of a list reply carry no kind or apiVersion
            self["kind"] = kind
        if api_version and "apiVersion" not in self:
            self["apiVersion"] = api_version

    def __repr__(self) -> str:
        return f"{str(self.get('kind', '?')).lower()}/{(self.get('metadata') or {}).get('name', '?')}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """In a notebook: pods as `pod/demo: Running, Ready=True`, other kinds as kind/name."""
        printer.text(pod_line(self) if self.get("kind") == "Pod" else repr(self))


class KubeObjects(list):
    """Objects selected by labels (names often generated); displays as their kind and count."""

    def __init__(self, items: Iterable[Mapping[str, Any]], kind: str) -> None:
        super().__init__(o if isinstance(o, KubeObject) else KubeObject(o, kind=kind) for o in items)
        self.kind = kind.lower()

    def __repr__(self) -> str:
        return f"{len(self)} {self.kind} object{'s' * (len(self) != 1)}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def as_object(value: Any, *, kind: str | None = None) -> Fields:
    """value read the podlab way: a KubeObject passes through; a dict, or a client model (V1Pod, ...) as its JSON, is wrapped."""
    if isinstance(value, Fields):
        return value
    if hasattr(value, "openapi_types"):  # a kubernetes client model: its JSON, camelCase as served
        value = _serializer().sanitize_for_serialization(value)
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an API object (a KubeObject, a dict or a client model), got {type(value).__name__}")
    if kind or "kind" in value or "metadata" in value:
        return KubeObject(value, kind=kind)
    return Fields(value)


def pod_line(pod: Any) -> str:
    """`pod/demo: Running, Ready=True`: the name, the phase and readiness (a notebook's display)."""
    pod = as_object(pod, kind="Pod")
    status = pod.get("status") or {}
    ready = next((c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    return f"pod/{(pod.get('metadata') or {}).get('name')}: {status.get('phase') or 'Unknown'}, Ready={ready or 'Unknown'}"


def parse_time(value: str | None) -> Any:
    """A timestamp as served (RFC 3339, e.g. metadata.creationTimestamp) as an aware datetime; None stays None."""
    from datetime import datetime
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@functools.lru_cache(maxsize=None)
def camel_case(name: str) -> str:
    """The JSON spelling of a field's snake_case name (pod_ip → podIP), as the kubernetes client maps it."""
    if "_" not in name:
        return name
    mapped = _attribute_map().get(name)
    if mapped:
        return mapped
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@functools.lru_cache(maxsize=1)
def _attribute_map() -> dict[str, str]:
    from kubernetes.client import models  # loads its ~850 models lazily: only an error message pays for this
    mapping: dict[str, str] = {}
    for model in (getattr(models, name) for name in models.__all__):
        for snake, camel in (getattr(model, "attribute_map", None) or {}).items():
            if isinstance(snake, str) and snake != camel and not snake.startswith("_"):
                mapping.setdefault(snake, camel)
    return mapping


@functools.lru_cache(maxsize=1)
def _serializer() -> Any:
    from kubernetes import client
    return client.ApiClient()  # only serializes: never connects anywhere


def _child(where: str, key: Any) -> str:
    return f"{where} {key}" if " " not in where and "[" not in where else f"{where}.{key}"


def _wrap(value: Any, where: str, *, in_place: bool = False) -> Any:
    """Objects in value as Fields: a new list at construction, the stored list itself (in_place) on reading."""
    if isinstance(value, Fields):
        return value
    if isinstance(value, Mapping):
        return Fields(value, where=where)
    if isinstance(value, list):
        items = value if in_place else list(value)
        for i, item in enumerate(items):
            wrapped = _wrap(item, f"{where}[{i}]", in_place=in_place)
            if wrapped is not item:
                items[i] = wrapped
        return items
    return value
