"""The environment of the single-machine JupyterHub (classroom/jupyterhub_config.py), built in podlab's cache.

`ensure()` gives a Python with JupyterHub, JupyterLab and what the labs import, at the versions
pinned below, and configurable-http-proxy from npm, in ``<podlab cache>/hub-<key>/``. The key is
a hash of the pins and of the Python's minor version, so a change of pin builds a new
environment beside the old one. Only `tests/live/test_classroom_hub.py`, the classroom browser
benchmark and an instructor (``python -m podlab.hubenv``) call it; `podlab up` never does.

podlab itself is not installed in it: the environment is shared by every checkout on the
machine (CI runs from a fresh clone in another folder), so the hub's configuration puts the
``helpers/`` of the checkout it sits in on the users' servers' PYTHONPATH; the labs a user gets
come from that same checkout.

A venv is not relocatable (pip writes its absolute path into the scripts in ``bin/``), so it is
built where it stays, and a stamp written last (atomically) marks it complete: a directory
without the stamp, left by a killed build, is removed and built again. A lock file keeps two
builders apart.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import PodlabError
from .progress import step

# What the users' servers run (JupyterHub's single-user server, JupyterLab, the kernel) and what
# the labs import (podlab's own dependencies, widgets, figures): the project's .venv's versions.
PYTHON_PINS = ("jupyterhub==6.1.1", "jupyterlab==4.6.6", "ipykernel==7.4.0", "ipython==9.19.1",
               "ipywidgets==8.1.9", "kubernetes==37.0.3", "PyYAML==6.0.4", "matplotlib==3.11.2")
PROXY_PACKAGE, PROXY_VERSION = "configurable-http-proxy", "5.3.0"
STAMP = "complete.json"
BUILD_TIMEOUT = 1800  # seconds for each of pip and npm


@dataclass(frozen=True)
class HubEnv:
    """A built hub environment: its folder, its Python and its proxy command."""

    root: Path
    python: Path
    proxy: Path


def env_key(python_version: tuple[int, int] | None = None) -> str:
    """The folder name of the environment for these pins and this Python (major, minor)."""
    major, minor = python_version or sys.version_info[:2]
    manifest = json.dumps({"python": f"{major}.{minor}", "pip": sorted(PYTHON_PINS),
                           "npm": f"{PROXY_PACKAGE}@{PROXY_VERSION}"}, sort_keys=True)
    hub = next(p.split("==")[1] for p in PYTHON_PINS if p.startswith("jupyterhub=="))
    return f"hub-{hub}-py{major}.{minor}-{hashlib.sha256(manifest.encode()).hexdigest()[:12]}"


def layout(root: Path) -> HubEnv:
    """Where the Python and the proxy command of an environment rooted at `root` are."""
    return HubEnv(root=root, python=root / "venv" / "bin" / "python",
                  proxy=root / "proxy" / "node_modules" / ".bin" / PROXY_PACKAGE)


def is_complete(root: Path, key: str) -> bool:
    """Whether `root` holds a finished build of `key` (its stamp, and its Python and proxy still there)."""
    try:
        stamp = json.loads((root / STAMP).read_text())
    except (OSError, ValueError):
        return False
    env = layout(root)
    return stamp.get("key") == key and env.python.exists() and env.proxy.exists()


def missing_tools() -> list[str]:
    """Which of the programs a build needs are not on PATH (node and npm)."""
    return [tool for tool in ("node", "npm") if shutil.which(tool) is None]


def ensure() -> HubEnv:
    """Build the hub environment unless a complete one is cached; its paths."""
    key = env_key()
    root = paths.cache_dir() / key
    env = layout(root)
    if is_complete(root, key):
        return env
    root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root.with_name(key + ".lock")):
        if is_complete(root, key):  # another builder finished while we waited
            return env
        _build(root, key)
    return env


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(root: Path, key: str) -> None:
    missing = missing_tools()
    if missing:
        raise PodlabError(f"Building JupyterHub's environment needs {' and '.join(missing)}, not found on PATH.",
                          hint="Install Node.js and npm (Debian: apt-get install nodejs npm), or point "
                               "PODLAB_HUB_PYTHON and PODLAB_HUB_PROXY at a hub environment (classroom/README.md).")
    shutil.rmtree(root, ignore_errors=True)  # a half-built one, left by a killed build
    log = paths.cache_dir() / "logs" / f"{key}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = layout(root)
    (root / "proxy").mkdir(parents=True)
    (root / "proxy" / "package.json").write_text(json.dumps(
        {"private": True, "dependencies": {PROXY_PACKAGE: PROXY_VERSION}}, indent=2) + "\n")
    registry = "a network error means it was not reachable"
    commands = [  # what, command, folder, what a failure usually means
        ("python -m venv", [sys.executable, "-m", "venv", str(root / "venv")], root,
         "Python's venv module is missing (Debian: apt-get install python3-venv)"),
        ("pip install", [str(env.python), "-m", "pip", "install", "--disable-pip-version-check",
                         "--no-input", *PYTHON_PINS], root, f"it needs PyPI: {registry}"),
        ("npm install", ["npm", "install", "--no-audit", "--no-fund", "--save-exact"], root / "proxy",
         f"it needs the npm registry: {registry}"),
    ]
    with step(f"building JupyterHub's environment in {root} (PyPI and npm)", log=log), log.open("w") as out:
        for what, command, cwd, meaning in commands:
            out.write(f"$ (cd {cwd} && {' '.join(command)})\n")
            out.flush()
            try:
                result = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, timeout=BUILD_TIMEOUT)
                code = result.returncode
            except subprocess.TimeoutExpired:
                code = f"timed out after {BUILD_TIMEOUT} s"
            if code != 0:
                out.flush()
                tail = "\n".join(log.read_text().splitlines()[-12:])
                raise PodlabError(f"Building JupyterHub's environment failed at {what} ({code}):\n{tail}",
                                  hint=f"Full log: {log}. Usually {meaning}. Run it again once fixed, or point "
                                       "PODLAB_HUB_PYTHON and PODLAB_HUB_PROXY at a hub environment "
                                       "(classroom/README.md).")
    if not (env.python.exists() and env.proxy.exists()):
        raise PodlabError(f"Building JupyterHub's environment left no {env.python} or {env.proxy}.",
                          hint=f"Full log: {log}.")
    stamp = root / (STAMP + ".tmp")
    stamp.write_text(json.dumps({"key": key, "pip": list(PYTHON_PINS),
                                 "npm": f"{PROXY_PACKAGE}@{PROXY_VERSION}"}) + "\n")
    os.replace(stamp, root / STAMP)


if __name__ == "__main__":
    try:
        built = ensure()
    except PodlabError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
    print(f"PODLAB_HUB_PYTHON={built.python}\nPODLAB_HUB_PROXY={built.proxy}")
