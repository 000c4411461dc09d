"""podlab.hubenv: the hub environment's key, stamp and rebuild of a half-built one (pure logic, no build)."""

from __future__ import annotations

import json

import pytest

from podlab import hubenv
from podlab.errors import PodlabError


def fake_build(calls: list):
    """A stand-in for the pip and npm build: makes the python and proxy files and the stamp."""
    def build(root, key):
        calls.append(sorted(p.name for p in root.iterdir()) if root.exists() else None)
        env = hubenv.layout(root)
        for path in (env.python, env.proxy):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
        (root / hubenv.STAMP).write_text(json.dumps({"key": key}))
    return build


def test_the_key_names_jupyterhub_and_python_and_changes_with_any_pin(monkeypatch):
    key = hubenv.env_key((3, 11))
    assert key.startswith("hub-6.1.1-py3.11-") and key == hubenv.env_key((3, 11))
    assert hubenv.env_key((3, 12)) != key
    monkeypatch.setattr(hubenv, "PROXY_VERSION", "5.3.1")
    assert hubenv.env_key((3, 11)) != key
    monkeypatch.undo()
    monkeypatch.setattr(hubenv, "PYTHON_PINS", (*hubenv.PYTHON_PINS[:-1], "matplotlib==3.11.3"))
    assert hubenv.env_key((3, 11)) != key


def test_only_a_stamped_build_of_the_same_key_with_its_programs_is_complete(tmp_path):
    root = tmp_path / "hub"
    assert not hubenv.is_complete(root, "k")
    fake_build([])(root, "k")
    assert hubenv.is_complete(root, "k") and not hubenv.is_complete(root, "other")
    hubenv.layout(root).proxy.unlink()
    assert not hubenv.is_complete(root, "k")
    (root / hubenv.STAMP).write_text("{not json")
    assert not hubenv.is_complete(root, "k")


def test_ensure_builds_once_and_rebuilds_a_half_built_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PODLAB_CACHE", str(tmp_path))
    calls: list = []
    monkeypatch.setattr(hubenv, "_build", fake_build(calls))
    root = tmp_path / hubenv.env_key()
    root.mkdir()
    (root / "venv").mkdir()  # what a killed build leaves: no stamp
    env = hubenv.ensure()
    assert env.root == root and calls == [["venv"]]  # the build was handed the half-built folder
    assert hubenv.ensure() == env and len(calls) == 1  # complete: not built again


def test_a_build_without_node_or_npm_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(hubenv, "missing_tools", lambda: ["npm"])
    with pytest.raises(PodlabError, match="needs npm") as e:
        hubenv._build(tmp_path / "hub", "k")
    assert "apt-get install nodejs npm" in str(e.value) and "PODLAB_HUB_PYTHON" in str(e.value)
    assert not (tmp_path / "hub").exists()
