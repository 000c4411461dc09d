"""Classroom mode, the student's side: how a lab session knows it runs in a student's namespace, and
the skip of cells that need more than that namespace.

How it knows: `podlab classroom create` writes each student's kubeconfig with the student's
namespace as its context's namespace and a context extension named `podlab.dev/classroom`
(MARKER) naming the course and the student (the shape minikube uses for its own context
extensions; kubectl keeps extensions it does not know). A lab session whose current context
carries that extension works inside that namespace (podlab.session). The marker is explicit and
travels with the one file a student must have anyway (JupyterHub's spawner hands it over as
KUBECONFIG): a probe ("may I create namespaces?") would switch any restricted account on any
cluster into classroom mode without anyone asking for it, and an environment variable would have
to be set beside the kubeconfig in every place a kernel starts.

Skipping cells: a code cell tagged `needs-cluster` (book/README.md) is replaced, in classroom
mode, by one print of SKIP_LINE. Cell tags are notebook metadata the kernel never reads from the
file; JupyterLab 4 (and Notebook 7, built on it) sends them with each execute request: its
CodeCell.execute (packages/cells/src/widget.ts) merges the cell's metadata into the request's
metadata (`metadata = {...model.metadata, ...metadata, ...cellId}`), which ipykernel keeps as
the shell's parent message. An IPython input transformer, registered when a lab opens in
classroom mode, reads the tags there and rewrites only that cell. A front end that sends no cell
metadata (nbclient 0.11 and nbval 0.11 send none) runs the cell as written; its API calls are
then refused with HTTP 403 and the error says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import PodlabError

MARKER = "podlab.dev/classroom"   # the kubeconfig context extension `podlab classroom create` writes
SKIP_TAG = "needs-cluster"        # the cell tag of cells that need more than the lab's namespace


@dataclass(frozen=True)
class Classroom:
    """A student's place: the course, the student, and the namespace a lab session works in."""

    course: str
    student: str
    namespace: str
    context: str


def marker_extension(course: str, student: str) -> dict[str, Any]:
    """The context extension that marks a student's kubeconfig (a kubeconfig NamedExtension)."""
    return {"name": MARKER, "extension": {"course": course, "student": student}}


def parse_context(name: str, context: Mapping[str, Any]) -> Classroom | None:
    """The classroom a kubeconfig context marks (None: not a classroom context); PodlabError if the marker is incomplete."""
    for entry in context.get("extensions") or []:
        if not isinstance(entry, Mapping) or entry.get("name") != MARKER:
            continue
        extension = entry.get("extension") if isinstance(entry.get("extension"), Mapping) else {}
        namespace = context.get("namespace") or ""
        course = str(extension.get("course") or "")
        if not namespace or not course:
            raise PodlabError(f"The kube context {name!r} is marked {MARKER} but names no "
                              f"{'namespace' if not namespace else 'course'}.",
                              hint="Ask your instructor for a new kubeconfig (`podlab classroom create` writes both).")
        return Classroom(course, str(extension.get("student") or ""), str(namespace), name)
    return None


def current_classroom(files: Sequence[Path]) -> Classroom | None:
    """The classroom of the current context of these kubeconfig files, merged as kubectl merges them (first wins)."""
    current, contexts = "", {}
    for path in files:
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue  # unreadable: connect() reports it when it loads the file
        if not isinstance(doc, Mapping):
            continue
        current = current or str(doc.get("current-context") or "")
        for entry in doc.get("contexts") or []:
            if isinstance(entry, Mapping) and isinstance(entry.get("context"), Mapping):
                contexts.setdefault(str(entry.get("name")), entry["context"])
    return parse_context(current, contexts[current]) if current in contexts else None


def kubeconfig_files(explicit: Path | None) -> list[Path]:
    """The files a kubeconfig choice means: the explicit one, else KUBECONFIG's list, else ~/.kube/config."""
    if explicit is not None:
        return [explicit]
    listed = [Path(p).expanduser() for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return listed or [Path("~/.kube/config").expanduser()]


# -- skipping the cells that need more than the namespace ----------------------------------------

def skip_line(classroom: Classroom) -> str:
    """The one line a skipped cell prints."""
    return (f"⤼ skipped in classroom mode: this cell needs more than your namespace {classroom.namespace} "
            f"(the line above it says what)")


def skipped_source(tags: object, line: str) -> list[str] | None:
    """The code that replaces a cell tagged SKIP_TAG (printing line); None for any other cell."""
    if not isinstance(tags, (list, tuple)) or SKIP_TAG not in tags:
        return None
    return [f"print({line!r})\n"]


def request_tags(parent: Mapping[str, Any] | None) -> object:
    """The cell tags an execute request carries in its metadata (JupyterLab sends the cell's metadata)."""
    if not parent or (parent.get("header") or {}).get("msg_type") != "execute_request":
        return None
    return (parent.get("metadata") or {}).get("tags")


class _SkipTransformer:
    """An IPython input transformer: the cell of an execute request tagged SKIP_TAG becomes a print of its line."""

    def __init__(self, classroom: Classroom) -> None:
        self.classroom = classroom

    def __call__(self, lines: list[str]) -> list[str]:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
        parent = kernel.get_parent("shell") if kernel is not None and hasattr(kernel, "get_parent") else None
        return skipped_source(request_tags(parent), skip_line(self.classroom)) or lines


def install_skip(classroom: Classroom) -> bool:
    """In a Jupyter kernel, skip cells tagged SKIP_TAG from now on (once per kernel); False elsewhere."""
    from .livestatus import in_kernel

    if not in_kernel():
        return False
    from IPython import get_ipython

    post = get_ipython().input_transformers_post
    post[:] = [t for t in post if not isinstance(t, _SkipTransformer)]
    post.append(_SkipTransformer(classroom))
    return True
