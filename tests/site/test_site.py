"""Build the podlab static site (Jupyter Book 1) and check what a reader gets.

The site is built exactly as `make site` builds it: source folder = the
repository root, config and TOC from book/, notebooks not executed. Only the
output goes to a temporary folder, so the test never writes into the repo.

Checks:
- every file named in book/_toc.yml exists, and the build succeeds;
- the build log has no Sphinx warning (broken cross-references, missing TOC
  entries, documents outside the TOC, ...), except syntax-highlighting
  fallbacks, which do not change what is shown;
- only the TOC's documents become pages (nothing from .venv/, helpers/, ...);
- every internal href/src in the generated HTML points to an existing file,
  and every #anchor to an existing id in that file;
- no page needs anything from another host to render (<script src>,
  <link href>, <img src>, ... pointing off-site);
- each notebook page shows each of its code cells with the stored outputs;
- cells tagged `hide-cell` (how labs hide exercise solutions) are collapsed
  in a closed <details> element, and a cell tagged `solution` is hidden
  (`hide-cell`) or removed (`remove-cell`).

Set PODLAB_SITE_ROOT to build another checkout (e.g. a scratch copy).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

yaml = pytest.importorskip("yaml")

if find_spec("jupyter_book") is None:
    pytest.skip(
        "jupyter-book is not installed in this environment "
        "(pip install -e '.[site]', i.e. 'jupyter-book>=1.0.4,<2')",
        allow_module_level=True,
    )

REPO = Path(os.environ.get("PODLAB_SITE_ROOT", Path(__file__).resolve().parents[2]))
CONFIG = REPO / "book" / "_config.yml"
TOC = REPO / "book" / "_toc.yml"

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Warnings that do not change what a reader sees: Pygments could not lex a
# cell strictly (e.g. IPython `!cmd` under a plain "python" lexer) and fell
# back to relaxed highlighting.
ALLOWED_WARNINGS = [
    re.compile(r"WARNING: Lexing literal_block .* Retrying in relaxed mode"),
    re.compile(r"WARNING: Could not lex literal_block .* as \"\w+\""),
]
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")
SPECIAL_PAGES = {"index.html", "genindex.html", "search.html"}


# --------------------------------------------------------------------------- #
# TOC and build


def toc_documents() -> list[Path]:
    """Source files named in the TOC, relative to the repo root."""
    toc = yaml.safe_load(TOC.read_text())
    names: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    names.append(node[key])
            for key in ("parts", "chapters", "sections", "subtrees", "entries"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    docs = []
    for name in names:
        base = Path(name)
        candidates = (
            [base] if base.suffix in {".md", ".ipynb"}
            else [base.with_suffix(".ipynb"), base.with_suffix(".md")]
        )
        found = [c for c in candidates if (REPO / c).is_file()]
        docs.append(found[0] if found else candidates[0])
    return docs


def docname(doc: Path) -> str:
    return doc.with_suffix("").as_posix()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = [d.as_posix() for d in toc_documents() if not (REPO / d).is_file()]
    assert not missing, f"book/_toc.yml names files that do not exist: {missing}"

    out = tmp_path_factory.mktemp("site")
    cmd = [
        sys.executable, "-c",
        "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
        "build", str(REPO),
        "--config", str(CONFIG), "--toc", str(TOC),
        "--path-output", str(out),
        "--all",  # fresh build, no stale environment
    ]
    started = time.monotonic()
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    )
    log = ANSI.sub("", proc.stdout + proc.stderr)
    print(f"site build: {time.monotonic() - started:.1f}s")
    return {"rc": proc.returncode, "log": log, "html": out / "_build" / "html"}


# --------------------------------------------------------------------------- #
# HTML parsing


class Page(HTMLParser):
    """Collects ids, URL-valued attributes and the cell structure of a page."""

    URL_ATTRS = {"a": "href", "link": "href", "script": "src", "img": "src",
                 "iframe": "src", "source": "src", "video": "src", "audio": "src",
                 "embed": "src", "object": "data"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
            "meta", "param", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str, dict]] = []  # (tag, url, attrs)
        self.stack: list[tuple[str, dict]] = []
        self.cells: list[dict] = []
        self._cell_depth: int | None = None

    # cells: <div class="cell ..."> with parts cell_input / cell_output
    def _classes(self, attrs):
        return (attrs.get("class") or "").split()

    def handle_starttag(self, tag, attrs_list):
        attrs = dict(attrs_list)
        for key in ("id", "name"):
            if attrs.get(key) and (key == "id" or tag == "a"):
                self.ids.add(attrs[key])
        if tag in self.URL_ATTRS and attrs.get(self.URL_ATTRS[tag]) is not None:
            self.urls.append((tag, attrs[self.URL_ATTRS[tag]], attrs))
        if self._cell_depth is not None and tag == "img":  # before the return: <img> is void
            self.cells[-1]["imgs"] += 1
        if tag in self.VOID:
            return
        self.stack.append((tag, attrs))
        if tag == "div" and "cell" in self._classes(attrs) and self._cell_depth is None:
            self._cell_depth = len(self.stack)
            self.cells.append({"classes": self._classes(attrs), "input": "",
                               "output": "", "input_hidden": False,
                               "output_hidden": False, "imgs": 0, "visible": ""})

    def handle_startendtag(self, tag, attrs_list):
        self.handle_starttag(tag, attrs_list)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        # tolerate sloppy nesting: pop up to the matching tag
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        if self._cell_depth is not None and len(self.stack) < self._cell_depth:
            self._cell_depth = None

    def handle_data(self, data):
        if self._cell_depth is None:
            return
        cell = self.cells[-1]
        classes = [c for _, a in self.stack for c in self._classes(a)]
        closed = any(t == "details" and "open" not in a for t, a in self.stack)
        in_summary = any(t == "summary" for t, _ in self.stack)
        if "cell_input" in classes:
            cell["input"] += data
            cell["input_hidden"] |= closed
        elif "cell_output" in classes:
            cell["output"] += data
            cell["output_hidden"] |= closed
        if not closed and not in_summary:
            cell["visible"] += data


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def norm(text: str) -> str:
    return " ".join(ANSI.sub("", text).split())


def html_pages(html: Path) -> list[Path]:
    return sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)


# --------------------------------------------------------------------------- #
# tests


def test_build_succeeds(site):
    assert site["rc"] == 0, f"jupyter-book build failed:\n{site['log'][-4000:]}"
    assert "build succeeded" in site["log"], site["log"][-4000:]
    assert (site["html"] / "index.html").is_file()


def test_build_has_no_warnings(site):
    warnings = [
        line for line in site["log"].splitlines()
        if ("WARNING" in line or "ERROR" in line)
        and not any(p.search(line) for p in ALLOWED_WARNINGS)
    ]
    assert not warnings, "Sphinx warnings in the site build:\n" + "\n".join(warnings)


def test_only_toc_documents_become_pages(site):
    html = site["html"]
    expected = {docname(d) + ".html" for d in toc_documents()}
    built = {p.relative_to(html).as_posix() for p in html_pages(html)}
    built -= SPECIAL_PAGES
    assert built == expected, (
        f"pages not in the TOC: {sorted(built - expected)}; "
        f"TOC entries without a page: {sorted(expected - built)}"
    )


def test_internal_links_resolve(site):
    html = site["html"].resolve()
    cache: dict[Path, Page] = {}

    def page_of(path: Path) -> Page:
        if path not in cache:
            cache[path] = parse(path)
        return cache[path]

    broken = []
    for src in html_pages(html):
        for tag, url, _ in page_of(src).urls:
            url = url.strip()
            if not url or EXTERNAL.match(url):
                continue  # external links are checked by test_no_external_assets
            parts = urlsplit(url)
            target = src if not parts.path else (src.parent / unquote(parts.path)).resolve()
            where = f"{src.relative_to(html)}: <{tag}> {url}"
            if html not in target.parents and target != html:
                broken.append(f"{where} -> outside the site")
                continue
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{where} -> no such file")
                continue
            frag = unquote(parts.fragment)
            if frag and target.suffix == ".html" and frag not in page_of(target).ids:
                broken.append(f"{where} -> no id '{frag}' in {target.relative_to(html)}")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_no_external_assets(site):
    """Nothing a page needs to render comes from another host."""
    html = site["html"]
    external = []
    for src in html_pages(html):
        for tag, url, attrs in parse(src).urls:
            if tag == "a" or not EXTERNAL.match(url.strip()):
                continue
            if url.startswith("data:"):
                continue
            if tag == "link" and attrs.get("rel", "") in {"canonical", "author", "license"}:
                continue
            external.append(f"{src.relative_to(html)}: <{tag}> {url}")
    assert not external, "pages load assets from other hosts:\n" + "\n".join(external)


def notebook_cells(path: Path) -> list[dict]:
    """Code cells of a notebook that are rendered (not removed)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        tags = {t.replace("_", "-") for t in tags}
        if "remove-cell" in tags or {"remove-input", "remove-output"} <= tags:
            continue
        cells.append(cell)
    return cells


def source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def expected_output_texts(output) -> list[str]:
    """Texts that must show up for one stored output ([] if not textual)."""
    kind = output["output_type"]
    if kind == "stream":
        text = output["text"]
        return ["".join(text) if isinstance(text, list) else text]
    if kind == "error":
        return [output["ename"]]
    data = output.get("data", {})
    rich = [m for m in data if m not in ("text/plain",
                                         "application/vnd.jupyter.widget-view+json")]
    if not rich and "text/plain" in data:
        text = data["text/plain"]
        return ["".join(text) if isinstance(text, list) else text]
    return []  # html/images/... are checked only for presence of output


def _shows_something(output: dict) -> bool:
    """Whether a stored output has anything to render: a live status that cleared itself
    (podlab.livestatus) leaves a display_data with no data, which renders as nothing."""
    return output.get("output_type") != "display_data" or bool(output.get("data"))


def notebook_docs() -> list[Path]:
    return [d for d in toc_documents() if d.suffix == ".ipynb"]


@pytest.mark.parametrize("doc", notebook_docs(), ids=lambda d: d.as_posix())
def test_notebook_page_shows_cells_and_outputs(site, doc):
    page_path = site["html"] / (docname(doc) + ".html")
    assert page_path.is_file(), f"no page for {doc}"
    page = parse(page_path)
    cells = notebook_cells(REPO / doc)
    assert len(page.cells) == len(cells), (
        f"{doc}: {len(cells)} code cells to render, {len(page.cells)} on the page"
    )
    for i, (cell, shown) in enumerate(zip(cells, page.cells)):
        tags = {t.replace("_", "-") for t in cell.get("metadata", {}).get("tags", [])}
        if "remove-input" not in tags:
            assert norm(source(cell)) in norm(shown["input"]), (
                f"{doc} code cell {i}: source not on the page"
            )
        if "remove-output" in tags:
            continue
        for output in cell.get("outputs", []):
            for text in expected_output_texts(output):
                assert norm(text) in norm(shown["output"]), (
                    f"{doc} code cell {i}: stored {output['output_type']} output "
                    f"{text[:80]!r} not on the page"
                )
        if any(_shows_something(output) for output in cell.get("outputs", [])):
            assert shown["output"].strip() or shown["imgs"], (
                f"{doc} code cell {i}: stored outputs, but nothing rendered"
            )


def test_hidden_solutions_are_collapsed(site):
    """Solution cells (tag `hide-cell`) are inside a closed <details>."""
    checked = 0
    problems = []
    for doc in notebook_docs():
        page = parse(site["html"] / (docname(doc) + ".html"))
        cells = notebook_cells(REPO / doc)
        for i, (cell, shown) in enumerate(zip(cells, page.cells)):
            tags = {t.replace("_", "-") for t in cell.get("metadata", {}).get("tags", [])}
            if "solution" in tags and "hide-cell" not in tags:
                problems.append(f"{doc} code cell {i}: tagged 'solution' but not "
                                "'hide-cell' (or 'remove-cell'): shown by default")
                continue
            if "hide-cell" not in tags:
                continue
            checked += 1
            if "tag_hide-cell" not in shown["classes"]:
                problems.append(f"{doc} code cell {i}: hide-cell tag not applied")
            if shown["input"].strip() and not shown["input_hidden"]:
                problems.append(f"{doc} code cell {i}: solution source visible by default")
            if shown["output"].strip() and not shown["output_hidden"]:
                problems.append(f"{doc} code cell {i}: solution output visible by default")
            src = norm(source(cell))
            if src and src in norm(shown["visible"]):
                problems.append(f"{doc} code cell {i}: solution text outside the "
                                "collapsed block")
    assert not problems, "\n".join(problems)
    if not checked:
        pytest.skip("no notebook in the TOC has a hidden (hide-cell) solution cell yet")


def test_widgets_show_their_fixed_fallback_and_load_no_widget_code(site):
    """A predict-then-measure widget appears as its text/html fallback; no widget manager is loaded."""
    import podlab
    expected = {podlab.timing.termination_widget(None).fallback_html(), podlab.timing.probe_widget(None).fallback_html()}
    found = []
    for doc in notebook_docs():
        text = (site["html"] / (docname(doc) + ".html")).read_text()
        found += [html for html in expected if html.replace("'", "&#x27;") in text or html in text]
        assert "application/vnd.jupyter.widget-view+json" not in text, f"{doc}: a widget view reached the page"
        assert "@jupyter-widgets" not in text and "require.js" not in text, f"{doc}: widget JavaScript loaded"
    assert sorted(found) == sorted(expected), "a widget's fallback is missing from the site"
