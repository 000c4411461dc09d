"""Applying and deleting manifests: server-side apply with strict field validation.

A typo such as `imagee:` must be reported, never silently dropped. Server-side apply
(PATCH application/apply-patch+yaml, fieldManager=podlab, fieldValidation=Strict) does
that: the server answers `….imagee: field not declared in schema` (HTTP 500, whatever the
fieldValidation level, for built-in kinds), and Strict also rejects duplicated fields.
Duplicate keys in YAML text never reach the server (PyYAML keeps the last one), so the
loader here refuses them with their line number.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any, Union
from collections.abc import Mapping, Sequence

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import api_error, request_json, resource_for
from .conditions import deleted
from .connect import connect
from .errors import PodlabError
from .quantities import parse_quantity
from .timeouts import DELETION
from .waiting import wait_until

FIELD_MANAGER = "podlab"

Manifest = Union[str, "os.PathLike[str]", Mapping[str, Any], Sequence[Mapping[str, Any]]]
"""YAML text, a path to a YAML file (a Path, or a one-line string ending in .yaml/.yml/.json,
as with `kubectl apply -f`), an object dict, or a list of them."""

_FILE_SUFFIXES = (".yaml", ".yml", ".json")


class AppliedObjects(list):
    """The objects as the server returned them; shown briefly (`applied pod/demo`) in notebooks."""

    def __repr__(self) -> str:
        return "applied " + ", ".join(object_ref(o) for o in self) if self else "applied nothing"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def object_ref(obj: Mapping[str, Any]) -> str:
    """kind/name of an object, kubectl style (`pod/demo`)."""
    return f"{str(obj.get('kind', '?')).lower()}/{(obj.get('metadata') or {}).get('name', '?')}"


def load_manifests(source: Manifest) -> list[dict[str, Any]]:
    """Parse a manifest into object dicts (copies), skipping empty documents and unrolling Lists."""
    if is_manifest_path(source):
        source = Path(source)  # type: ignore[arg-type]
    if isinstance(source, os.PathLike):
        path = Path(source)
        try:
            docs: list[Any] = _parse_yaml(path.read_text(), origin=str(path))
        except FileNotFoundError:
            raise PodlabError(f"No manifest file at {path}.") from None
    elif isinstance(source, str):
        docs = _parse_yaml(source, origin="The manifest")
    elif isinstance(source, Mapping):
        docs = [source]
    elif isinstance(source, Sequence):
        docs = list(source)
    else:
        raise TypeError(f"cannot apply a {type(source).__name__}: pass YAML text, a Path, a dict or a list")

    objects: list[dict[str, Any]] = []
    for number, doc in enumerate(docs, start=1):
        if doc is None:
            continue
        if isinstance(doc, Mapping) and str(doc.get("kind", "")).endswith("List") and "items" in doc:
            objects.extend(load_manifests(list(doc["items"] or [])))
            continue
        objects.append(_checked(doc, number))
    return objects


def is_manifest_path(source: object) -> bool:
    """Whether source names a manifest file rather than holding YAML text."""
    if isinstance(source, os.PathLike):
        return True
    return (isinstance(source, str) and "\n" not in source.strip()
            and source.strip().lower().endswith(_FILE_SUFFIXES))


def manifest_listing(path: "str | os.PathLike[str]", namespace: str, *, dry_run: bool = False,
                     post_to: str | None = None) -> str:
    """A manifest file as a reader should see it: the kubectl command that sends it, then the file.

    dry_run: the file is applied with apply(dry_run=True) (`--dry-run=server`).
    post_to names the API path a cell POSTs the file to instead of applying it (Lab.request):
    a file of JSON goes as it is (`kubectl create --raw`); a YAML file's objects are created
    (`kubectl create -n`) in the namespace of a collection path of their kind.
    """
    file = Path(path)
    try:
        text = file.read_text()
    except FileNotFoundError:
        raise PodlabError(f"No manifest file at {file}.",
                          hint="Paths are relative to the notebook's folder.") from None
    if post_to is None:
        dry = " --dry-run=server" if dry_run else ""
        command = f"kubectl apply --server-side{dry} -n {namespace} -f {file.as_posix()}"
    elif dry_run:
        raise PodlabError("A file is either applied (dry_run) or POSTed (post_to), not both.")
    else:
        command = _post_command(file, text, post_to)
    return f"$ {command}\n\n{text.rstrip()}\n"


_COLLECTION = re.compile(r"^/api(?:s/[^/]+)?/v[^/]+/namespaces/(?P<namespace>[^/]+)/(?P<resource>[a-z0-9]+)$")


def _post_command(file: Path, text: str, post_to: str) -> str:
    """The kubectl command that POSTs file to post_to as Lab.request does."""
    try:
        json.loads(text)
    except ValueError:
        pass
    else:  # JSON: kubectl sends the bytes as they are, even what its own parser would refuse
        return f"kubectl create --raw {post_to} -f {file.as_posix()}"
    where = _COLLECTION.match(post_to)
    kinds = {str(obj["kind"]).lower() + "s" for obj in load_manifests(file)}
    if where is None or kinds != {where["resource"]}:
        raise PodlabError(f"No kubectl command POSTs {file.as_posix()} to {post_to}: kubectl create sends "
                          f"YAML objects only to their own kind's collection in a namespace.",
                          hint="Write the file as JSON (kubectl create --raw sends it as it is), "
                               "or post it to /api/v1/namespaces/<namespace>/<its kind, plural>.")
    return f"kubectl create -n {where['namespace']} -f {file.as_posix()}"


def apply(namespace: str, source: Manifest, *, dry_run: bool = False,
          labels: Mapping[str, str] | None = None, label_namespaced: bool = False,
          api: client.ApiClient | None = None) -> AppliedObjects:
    """Server-side apply each object (namespaced ones into namespace unless they name one).

    dry_run=True is `kubectl apply --server-side --dry-run=server`: the server defaults,
    validates and admits the objects and returns them as it would store them, but stores nothing.
    labels are added to each cluster-scoped object (a lab's ownership labels), over its own, and
    with label_namespaced to namespaced objects too (classroom mode: the namespace is not the lab's).
    """
    api = api or connect()
    applied = AppliedObjects()
    for obj in load_manifests(source):
        resource = resource_for(api, obj["apiVersion"], obj["kind"])
        metadata = obj["metadata"]
        if resource.namespaced:
            metadata["namespace"] = metadata.get("namespace") or namespace
            if labels and label_namespaced:
                metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
        else:
            metadata.pop("namespace", None)
            if labels:
                metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
        path = resource.path(metadata.get("namespace"), metadata["name"])
        try:
            applied.append(request_json(
                api, "PATCH", path, body=obj, content_type="application/apply-patch+yaml",
                query=[("fieldManager", FIELD_MANAGER), ("fieldValidation", "Strict"), ("force", True)]
                + ([("dryRun", "All")] if dry_run else [])))
        except ApiException as e:
            raise apply_error(e, obj) from None
    return applied


def delete(namespace: str, source: Manifest, *, grace_period: int | None = None, wait: bool = True,
           timeout: float = DELETION, api: client.ApiClient | None = None) -> list[str]:
    """Delete the objects a manifest describes (absent ones are skipped); wait until they are gone."""
    api = api or connect()
    removed: list[tuple[str, str | None, dict[str, Any]]] = []
    for obj in load_manifests(source):
        resource = resource_for(api, obj["apiVersion"], obj["kind"])
        where = (obj["metadata"].get("namespace") or namespace) if resource.namespaced else None
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions",
                                   "propagationPolicy": "Background"}
        if grace_period is not None:
            options["gracePeriodSeconds"] = grace_period
        try:
            request_json(api, "DELETE", resource.path(where, obj["metadata"]["name"]), body=options)
        except ApiException as e:
            if e.status == 404:
                continue
            raise api_error(e, f"deleting {object_ref(obj)}") from None
        removed.append((object_ref(obj), where, obj))
    if wait:
        for _, where, obj in removed:
            wait_until(where, obj["metadata"]["name"], deleted, kind=obj["kind"],
                              api_version=obj["apiVersion"], timeout=timeout, api=api)
    return [ref for ref, _, _ in removed]


def apply_error(e: ApiException, obj: Mapping[str, Any]) -> PodlabError:
    """The server's own message for a rejected apply, with the hints table's next step."""
    context = {"kind": str(obj["kind"]), "name": obj["metadata"]["name"]}
    bad = bad_quantities(obj)
    if bad:  # the server's message names no field for these: find them in the manifest
        context["quantities"] = "; ".join(f"{path}: {value!r}" for path, value in bad)
    return api_error(e, None, context=context)


_QUANTITY_KEYS = ("limits", "requests")


def bad_quantities(obj: Any, path: str = "") -> list[tuple[str, Any]]:
    """(field path, value) of each resources limit or request, or sizeLimit, that is not a quantity."""
    found: list[tuple[str, Any]] = []
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            here = f"{path}.{key}" if path else str(key)
            if key in _QUANTITY_KEYS and isinstance(value, Mapping) and path.endswith("resources"):
                found += [(f"{here}.{name}", v) for name, v in value.items() if not _is_quantity(v)]
            elif key == "sizeLimit" and not _is_quantity(value):
                found.append((here, value))
            else:
                found += bad_quantities(value, here)
    elif isinstance(obj, list):
        for index, item in enumerate(obj):
            name = item.get("name") if isinstance(item, Mapping) else None
            found += bad_quantities(item, f"{path}[{name}]" if name else f"{path}[{index}]")
    return found


def _is_quantity(value: Any) -> bool:
    try:
        parse_quantity(value)
    except (ValueError, TypeError, ArithmeticError):
        return False
    return True


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys, which PyYAML would silently collapse to the last."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen and key != "<<":
            raise yaml.constructor.ConstructorError(None, None, f"duplicate field {key!r}",
                                                    key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_yaml(text: str, *, origin: str) -> list[Any]:
    try:
        return list(yaml.load_all(text, Loader=_StrictLoader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        hint = ("A field may appear once per object: merge the two (YAML would otherwise keep "
                "only the last one)." if problem.startswith("duplicate field")
                else "Check the indentation there: YAML nests by spaces, never tabs.")
        raise PodlabError(f"{origin} is not valid YAML: {problem}{where}", hint=hint) from None


def _checked(doc: Any, number: int) -> dict[str, Any]:
    if not isinstance(doc, Mapping):
        hint = ("A file name must end in .yaml, .yml or .json to be read as a file."
                if isinstance(doc, str) else "Each YAML document must be one object (a mapping).")
        raise PodlabError(f"Manifest document {number} is a {type(doc).__name__}, not a Kubernetes "
                          f"object: {str(doc)[:60]!r}", hint=hint)
    missing = [k for k in ("apiVersion", "kind") if not doc.get(k)]
    if not (doc.get("metadata") or {}).get("name"):
        missing.append("metadata.name")
    if missing:
        raise PodlabError(f"Manifest document {number} ({doc.get('kind', 'no kind')}) lacks "
                          f"{', '.join(missing)}.",
                          hint="Every object needs apiVersion, kind and metadata.name.")
    return copy.deepcopy(dict(doc))
