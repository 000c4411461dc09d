"""The package's public surface: every exported name resolves, and the modules import without cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import podlab
import podlab.waiting

PACKAGE = Path(podlab.__file__).parent


def test_every_name_in_all_resolves():
    missing = [name for name in podlab.__all__ if getattr(podlab, name, None) is None]
    assert missing == []
    assert podlab.LAB_IMAGE == "docker.io/library/busybox:1.35.0"


def test_the_names_notebooks_use_are_still_there():
    lab_methods = ("wait", "wait_for_objects", "wait_for_event", "wait_for_log", "exec", "exec_until", "env",
                   "read_file", "logs", "events", "get", "pod", "apply", "delete", "defer", "close", "read_node_file", "attach", "show",
                   "recreate_until")
    assert [m for m in lab_methods if not callable(getattr(podlab.Lab, m, None))] == []


def test_one_wait_with_condition_values():
    """The wait aliases are gone: a pod's states are lab.wait(name, condition), nothing else."""
    aliases = ("wait_for_pod", "wait_for_ready", "wait_for_not_ready", "wait_for_phase", "wait_for_condition",
               "wait_for_restarts", "wait_for_deletion", "wait_for_object")
    assert [a for a in aliases if hasattr(podlab.Lab, a) or hasattr(podlab.waiting, a) or a in podlab.__all__] == []


def _imports(module: Path) -> set[str]:
    """The podlab modules a module imports anywhere (functions included), except under TYPE_CHECKING."""
    tree = ast.parse(module.read_text())
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    package = ".".join(("podlab", *module.relative_to(PACKAGE).parent.parts))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped or not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("podlab")}
            continue
        base = package.rsplit(".", node.level - 1)[0] if node.level else ""
        target = ".".join(x for x in (base, node.module) if x)
        if not target.startswith("podlab"):
            continue
        found.add(target)
        folder = PACKAGE.parent / target.replace(".", "/")
        found |= {f"{target}.{a.name}" for a in node.names if (folder / f"{a.name}.py").exists()}
    return found


def _graph() -> dict[str, set[str]]:
    modules = {".".join(("podlab", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_no_module_imports_itself_back():
    graph = _graph()
    cycles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node] - {"podlab"}:  # the package itself only re-exports, lazily
                if nxt == start:
                    cycles.append(" → ".join(path + [nxt]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    assert cycles == []


def test_the_reaper_does_not_import_the_session():
    graph = _graph()
    reachable, todo = set(), ["podlab.reaper"]
    while todo:
        for nxt in graph[todo.pop()] - reachable:
            reachable.add(nxt)
            todo.append(nxt)
    assert "podlab.session" not in reachable
    loaded = subprocess.run([sys.executable, "-c", "import sys, podlab.reaper, podlab.namespaces; "
                             "print('podlab.session' in sys.modules)"], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
