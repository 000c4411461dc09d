"""book/needs-cluster.md is what the notebooks' needs-cluster tags say (scripts/needs_cluster_page.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "needs_cluster_page.py"


def test_the_needs_cluster_page_matches_the_notebooks_tags():
    spec = importlib.util.spec_from_file_location("needs_cluster_page_site", SCRIPT)
    page = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = page  # dataclasses look their module up
    spec.loader.exec_module(page)
    committed = (ROOT / "book" / "needs-cluster.md").read_text(encoding="utf-8")
    assert committed == page.render(ROOT), ("book/needs-cluster.md is out of date: "
                                            "run .venv/bin/python scripts/needs_cluster_page.py")
    assert committed.count("| ---: |") >= 1  # at least one notebook has tagged cells
