"""Shared test setup. Tests marked `live` need the lab cluster (`podlab up`).

Without a reachable cluster they are skipped with the reason, unless PODLAB_REQUIRE_CLUSTER=1
(CI sets it): then they fail, so a broken cluster can never pass as a green run.
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest


# Exercise checks record the reader's progress; the tests' (and their notebooks' kernels') go to a
# scratch file, never into the progress of the person running them.
os.environ.setdefault("PODLAB_PROGRESS", str(Path(tempfile.mkdtemp(prefix="podlab-test-progress-")) / "progress.json"))


@lru_cache(maxsize=1)
def cluster_problem() -> str | None:
    """Why the lab cluster cannot run live tests, or None when it can."""
    try:
        from podlab._api import request_json
        from podlab.connect import connect

        nodes = request_json(connect(), "GET", "/api/v1/nodes", timeout=10)
    except Exception as e:  # any failure to reach the cluster is the answer itself
        return f"the lab cluster is not reachable ({type(e).__name__}: {str(e).splitlines()[0][:200]})"
    ready = [n for n in nodes.get("items", [])
             if any(c["type"] == "Ready" and c["status"] == "True"
                    for c in n.get("status", {}).get("conditions", []))]
    return None if ready else "the lab cluster has no Ready node"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("live") is None:
        return
    problem = cluster_problem()
    if problem is None:
        return
    if os.environ.get("PODLAB_REQUIRE_CLUSTER") == "1":
        pytest.fail(f"PODLAB_REQUIRE_CLUSTER=1 but {problem}", pytrace=False)
    pytest.skip(f"{problem}; start it with `podlab up` (set PODLAB_REQUIRE_CLUSTER=1 to fail instead)")


@pytest.fixture(scope="session")
def live_cluster():
    """The API client of the reachable lab cluster (live tests only)."""
    from podlab.connect import connect

    return connect()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.podlab_failed = report.failed  # type: ignore[attr-defined]
    return report


@pytest.fixture
def lab(request, live_cluster):
    """A fresh lab named after the test, deleted afterwards (kept if it failed and PODLAB_KEEP_NAMESPACES=1)."""
    from podlab.session import open_lab

    name = "t-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    opened = open_lab(name[:50].rstrip("-"))
    try:
        yield opened
    finally:
        opened.close(failed=getattr(request.node, "podlab_failed", True))
