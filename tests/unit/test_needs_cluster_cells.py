"""scripts/needs_cluster_page.py: which cells the needs-cluster page lists, from synthetic notebooks (pure logic)."""

from __future__ import annotations

import importlib.util
import sys
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "needs_cluster_page.py"
spec = importlib.util.spec_from_file_location("needs_cluster_page", SCRIPT)
page = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = page  # dataclasses look their module up
spec.loader.exec_module(page)

NOTICE = "**Needs more than the lab's namespace:**"


def md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text: str = "pass", tags: list[str] | None = None) -> dict:
    return {"cell_type": "code", "metadata": {"tags": tags} if tags else {}, "source": text, "outputs": []}


def test_cells_are_numbered_as_nbval_does_and_sit_in_their_section():
    nb = {"cells": [md("# Title"), code(), md("## First\n\nprose"), code(),
                    md(f"### Second | part\n\nWhy.\n\n{NOTICE} reads the\n  Node."), code(tags=["needs-cluster"]),
                    md("no heading"), code(), md(f"{NOTICE} the second."), code(tags=["x", "needs-cluster"])]}
    assert page.entries(nb) == [page.Entry(2, "Second | part", "reads the Node."),
                                page.Entry(4, "Second | part", "the second.")]


def test_a_tagged_cell_without_its_notice_right_above_is_an_error():
    nb = {"cells": [md(f"{NOTICE} for the cell below"), code(), code(tags=["needs-cluster"])]}
    with pytest.raises(page.PageError, match="code cell 0 .* not the cell tag"):
        page.entries(nb, "x.ipynb")
    nb = {"cells": [md("Setup."), code(tags=["needs-cluster"])]}
    with pytest.raises(page.PageError, match=r"x.ipynb: code cell 0 \(cell 1\) is tagged needs-cluster"):
        page.entries(nb, "x.ipynb")
    with pytest.raises(page.PageError, match="is tagged needs-cluster"):
        page.entries({"cells": [code(tags=["needs-cluster"])]}, "x.ipynb")


def test_the_notice_must_begin_its_paragraph_and_only_markdown_counts():
    assert page.notice_of(f"Text that mentions {NOTICE} in passing.") is None
    assert page.notice_of(f"Intro.\n\n{NOTICE}  a b\nc") == "a b c"
    with pytest.raises(page.PageError, match="markdown cell tagged"):
        page.entries({"cells": [{**md("x"), "metadata": {"tags": ["needs-cluster"]}}]})


def test_the_page_lists_each_notebook_with_its_cells_or_none(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "labs").mkdir()
    chapter = {"cells": [md("# The pod"), md(f"## Nodes\n\n{NOTICE} reads a|Node."), code(tags=["needs-cluster"])]}
    (tmp_path / "book" / "02-the-pod.ipynb").write_text(json.dumps(chapter))
    (tmp_path / "labs" / "01-x.ipynb").write_text(json.dumps({"cells": [md("# Lab 01: X"), code()]}))
    text = page.render(tmp_path)
    assert "### [Chapter 2: The pod](02-the-pod.ipynb)\n\n| Cell | Section | What it needs |" in text
    assert "| 0 | Nodes | reads a\\|Node. |" in text
    assert "### [Lab 01: X](../labs/01-x.ipynb)\n\nNo cell: all of it runs in the lab's namespace." in text
