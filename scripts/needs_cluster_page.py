"""Write book/needs-cluster.md: per chapter and lab, the code cells tagged `needs-cluster`.

    python scripts/needs_cluster_page.py           # write the page
    python scripts/needs_cluster_page.py --check   # exit 1 if the page is not what the notebooks say

Generated from the notebooks' cell tags, never by hand (tests/site/test_needs_cluster_page.py
checks the committed page is current). A tagged cell's notice is the paragraph beginning
`**Needs more than the lab's namespace:**` in the markdown cell right above it (book/README.md);
a tagged cell without one, or a notice above an untagged cell, is an error that names the cell.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from podlab.classmode import SKIP_TAG

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "needs-cluster.md"
TAG = SKIP_TAG  # the tag classroom mode skips
NOTICE = "**Needs more than the lab's namespace:**"
FOLDERS = (("Chapters", "book"), ("Labs", "labs"))


@dataclass(frozen=True)
class Entry:
    """One tagged cell: nbval's code-cell number, the section it sits in, and its notice."""

    cell: int
    section: str
    notice: str


class PageError(ValueError):
    """A notebook breaks the needs-cluster convention of book/README.md."""


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _headings(markdown: str) -> list[str]:
    return [m.group(2).strip() for m in re.finditer(r"^(#{1,6})\s+(.+?)\s*#*\s*$", markdown, re.M)]


def notice_of(markdown: str) -> str | None:
    """The text after NOTICE in its paragraph (wrapped lines joined), or None."""
    for paragraph in re.split(r"\n\s*\n", markdown):
        paragraph = paragraph.strip()
        if paragraph.startswith(NOTICE):
            return " ".join(paragraph[len(NOTICE):].split())
    return None


def entries(notebook: dict, name: str = "notebook") -> list[Entry]:
    """The needs-cluster cells of a notebook, in order; PageError when the convention is broken."""
    found, code, section, above = [], 0, "", None
    for index, cell in enumerate(notebook.get("cells", [])):
        kind = cell.get("cell_type")
        tagged = TAG in (cell.get("metadata", {}).get("tags") or [])
        if kind == "code":
            notice = notice_of(_text(above)) if above is not None and above.get("cell_type") == "markdown" else None
            if tagged and notice is None:
                raise PageError(f"{name}: code cell {code} (cell {index}) is tagged {TAG} but the markdown "
                                f"cell right above it has no paragraph beginning {NOTICE}")
            if notice is not None and not tagged:
                raise PageError(f"{name}: code cell {code} (cell {index}) has the {NOTICE} line above it "
                                f"but not the cell tag {TAG}")
            if tagged:
                found.append(Entry(code, section, notice))
            code += 1
        elif tagged:
            raise PageError(f"{name}: cell {index} is a {kind} cell tagged {TAG}; only code cells can be")
        if kind == "markdown":
            heads = _headings(_text(cell))
            section = heads[-1] if heads else section
        above = cell
    return found


def title_of(notebook: dict, fallback: str) -> str:
    """The notebook's first heading."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown" and _headings(_text(cell)):
            return _headings(_text(cell))[0]
    return fallback


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(root: Path = ROOT) -> str:
    """The page's markdown for the notebooks in root's book/ and labs/."""
    lines = [
        "# Cells that need more than the lab's namespace",
        "",
        "In classroom mode (`podlab classroom create` gave you a kubeconfig for one namespace), the",
        "cells below print one line saying they were skipped, instead of running: they need rights a",
        "student does not have, such as reading Nodes, creating fake nodes or cluster-scoped",
        "objects, or reaching the node itself. In each notebook the line right above such a cell says",
        "what it needs; it is repeated here. Everything else in a chapter or lab runs in your own",
        "namespace.",
        "",
        "A cell is numbered as `pytest` and nbval name it (`Cell 12`): code cells only, counted from 0.",
        "This page is generated from the notebooks' `needs-cluster` cell tags by",
        "`scripts/needs_cluster_page.py`; do not edit it by hand.",
    ]
    for caption, folder in FOLDERS:
        lines += ["", f"## {caption}"]
        for path in sorted((root / folder).glob("*.ipynb")):
            notebook = json.loads(path.read_text(encoding="utf-8"))
            found = entries(notebook, f"{folder}/{path.name}")
            link = path.name if folder == "book" else f"../{folder}/{path.name}"
            title = title_of(notebook, path.stem)
            if folder == "book":
                title = f"Chapter {path.stem[:2].lstrip('0')}: {title}"
            lines += ["", f"### [{_cell(title)}]({link})", ""]
            if not found:
                lines.append("No cell: all of it runs in the lab's namespace.")
                continue
            lines += ["| Cell | Section | What it needs |", "| ---: | --- | --- |"]
            lines += [f"| {e.cell} | {_cell(e.section)} | {_cell(e.notice)} |" for e in found]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if argv == ["--check"]:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE.relative_to(ROOT)} is not what the notebooks' tags say: run "
                  "python scripts/needs_cluster_page.py", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
