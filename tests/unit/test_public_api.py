"""The package's public surface: every exported name resolves, and the modules import without cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import podlab
import podlab.predict
import podlab.waiting

PACKAGE = Path(podlab.__file__).parent


def test_every_name_in_all_resolves():
    missing = [name for name in podlab.__all__ if getattr(podlab, name, None) is None]
    assert missing == []
    assert podlab.LAB_IMAGE == "docker.io/library/busybox:1.35.0"


def test_the_top_level_is_what_every_notebook_uses():
    """About 30 names (75 before issue 20); chapter-specific helpers are in submodules."""
    assert len(podlab.__all__) <= 36
    assert {"open_lab", "Lab", "ready", "deleted", "satisfies", "Check", "expect_equal", "PodlabError",
            "Exercise", "load_exercises", "LAB_IMAGE", "AGNHOST_IMAGE"} <= set(podlab.__all__)
    for name in ("measure_probe", "ProbeSetup", "Timeline", "sweep_labs", "wait_until", "parse_quantity"):
        assert name not in podlab.__all__


def test_submodules_are_attributes_and_moved_names_say_where_they_went():
    import podlab.timing
    assert [n for n in podlab.timing.__all__ if getattr(podlab.timing, n, None) is None] == []
    assert podlab.timing.probe_timing is podlab.predict.probe_timing
    assert subprocess.run([sys.executable, "-c", "import podlab; podlab.podstate.phase; podlab.cluster"],
                          capture_output=True, text=True).returncode == 0
    with pytest.raises(AttributeError, match=r"podlab\.measure_probe is now podlab\.timing\.measure_probe"):
        podlab.measure_probe
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        podlab.no_such_name


def test_reading_marks_does_not_load_the_measuring_or_drawing_code():
    loaded = subprocess.run([sys.executable, "-c", "import sys, podlab; podlab.timing.parse_marks; "
                             "print(sorted(m for m in sys.modules if m.split('.')[-1] in "
                             "('measure', 'widgets', 'predict') or m.startswith('matplotlib')))"],
                            capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


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
