"""Show the predict-then-measure widgets working in JupyterLab: headless Chromium runs them and takes screenshots.

    pip install playwright            # any Python; it drives the system's Chromium, nothing is downloaded
    python benchmarks/widget_screenshot.py --out /tmp/shots [--chromium /usr/bin/chromium] [--no-site]

It starts JupyterLab (this checkout's .venv) on a scratch notebook that shows the three widgets
(chapter 4's termination, chapter 5's probe, chapter 7's scheduling choice; the scratch notebook
installs KWOK and adds chapter 7's five fake nodes to its lab first, as the chapter does), runs
all cells, sets each widget's controls and prediction, presses Measure (a real pod on the lab
cluster; for chapter 7 the real scheduler places it on a fake node), waits for the result, and
saves one screenshot per measurement. The lab namespace and its fake nodes are removed at the
end, also when something fails.

Before that (unless --no-site) it builds the three chapters' pages as `make site` does (stored
outputs, nothing executed; into a temporary folder) and checks what a reader of the static site
gets instead of each widget: the text/html description, no widget view; it prints each stored
text/plain fallback and saves a screenshot of each page's widget cell.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
LAB = "widget-screenshot"
SHAPES = ("small", "large", "cpu-heavy", "medium-a", "medium-b")  # chapter 7's fake nodes, the widget's defaults
SETUP = f"""import podlab
from podlab import fakenodes, widgets
from podlab.cluster import kwok

lab = podlab.open_lab({LAB!r})
print(kwok.ensure(lab.api).split(" (image")[0])
ready = [node["metadata"]["name"] for shape in {SHAPES!r}
         for node in fakenodes.add(lab, {str(ROOT / "book" / "07-nodes-and-scheduling")!r} + f"/fake-node-{{shape}}.yaml")]
print("fake nodes Ready:", ", ".join(ready))"""
CELLS = [
    SETUP,
    "podlab.timing.termination_widget(lab)",
    "podlab.timing.probe_widget(lab)",
    "widgets.choice_widget(lab)",
]
# The chapters whose pages show a widget, and the call that shows it.
SITE_PAGES = {"book/04-stopping-and-starting": "termination_widget(", "book/05-probes": "probe_widget(",
              "book/07-nodes-and-scheduling": "choice_widget("}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def notebook() -> dict:
    """A scratch notebook with the three widgets."""
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s,
              "id": f"cell-{i}"} for i, s in enumerate(CELLS)]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dismiss_news(page) -> None:
    """Close JupyterLab's "get notified about official Jupyter news?" toast, which can cover a widget's corner."""
    no = page.locator("button.jp-toast-button").filter(has_text=re.compile(r"^\s*No\s*$"))
    for i in range(no.count()):
        no.nth(i).click()
    if no.count():
        time.sleep(1)


def measure(page, widget, prediction: str, done_text: str, out: Path, timeout_ms: int = 120_000) -> None:
    """Type a prediction into one widget, press Measure, wait for its summary, screenshot it."""
    widget.scroll_into_view_if_needed()
    field = widget.locator(".widget-text:has-text('your prediction') input")
    field.fill(prediction)
    field.press("Enter")
    widget.get_by_role("button", name="Measure").click()
    widget.locator(f"text={done_text}").first.wait_for(timeout=timeout_ms)
    widget.locator("img").first.wait_for(timeout=30_000)
    time.sleep(1)  # let the figure lay out
    dismiss_news(page)
    widget.screenshot(path=str(out))
    print(f"saved {out}")


def measure_choice(page, widget, a: str, b: str, cpu: str, memory: str, prediction: str, out: Path,
                   timeout_ms: int = 120_000) -> str:
    """Chapter 7's widget: choose the two fake nodes and the requests, pick a prediction, Measure; return its output."""
    widget.scroll_into_view_if_needed()
    for label, value in (("node A", a), ("node B", b), ("cpu request", cpu), ("memory request", memory)):
        widget.locator(".widget-dropdown", has_text=label).locator("select").select_option(label=value)
    # the prediction's options follow the two nodes (an observer in the kernel): wait for them, then pick one
    choices = widget.locator(".widget-toggle-buttons")
    for name in (a, b, "a tie", "no node"):
        choices.get_by_role("button", name=name, exact=True).wait_for(timeout=10_000)
    choices.get_by_role("button", name=prediction, exact=True).click()
    widget.get_by_role("button", name="Measure").click()
    output = widget.locator(".widget-output")
    summary = output.locator(f"text=requesting cpu={cpu}, memory={memory}, between the fake nodes {a} and {b}")
    try:
        summary.first.wait_for(timeout=timeout_ms)
        output.locator("text=the real scheduler put it on:").first.wait_for(timeout=10_000)
        output.locator("img").first.wait_for(timeout=30_000)
    except Exception:
        widget.screenshot(path=str(out.with_name(out.stem + "-failed.png")))
        print(output.inner_text(), file=sys.stderr)
        raise
    widget.get_by_role("button", name="Measure").wait_for(timeout=30_000)  # enabled again
    time.sleep(1)  # let the figure lay out
    dismiss_news(page)
    widget.screenshot(path=str(out))
    print(f"saved {out}")
    return output.inner_text()


def run_lab(p, chromium: str, out: Path) -> None:
    """JupyterLab on the scratch notebook: run all cells, measure with each widget, screenshot."""
    scratch = Path(tempfile.mkdtemp(prefix="podlab-widgets-"))
    (scratch / "widgets.ipynb").write_text(json.dumps(notebook()))
    port, token = free_port(), "podlab-screenshot"
    server = subprocess.Popen([str(BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={scratch}",
                               "--allow-root"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        url = f"http://127.0.0.1:{port}/lab/tree/widgets.ipynb?token={token}"
        for _ in range(60):  # the server takes a few seconds to listen
            try:
                page.goto(url, timeout=5_000)
                break
            except Exception:
                time.sleep(1)
        page.locator(".jp-Notebook").wait_for(timeout=60_000)
        select = page.locator(".jp-Dialog button:has-text('Select')")
        try:  # a fresh server asks which kernel to start
            select.wait_for(timeout=10_000)
            select.click()
        except Exception:
            pass
        try:  # the kernel starts (slowly on a busy machine)
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=180_000)
        except Exception:
            page.screenshot(path=str(out / "failed.png"))
            raise
        dismiss_news(page)
        page.get_by_role("menuitem", name="Run").click()
        page.locator("li[data-command='runmenu:run-all']").click()
        widgets = page.locator(".jp-OutputArea-output .widget-vbox")
        try:  # the first cell installs KWOK (if needed) and waits for five fake nodes to turn Ready
            widgets.nth(2).wait_for(timeout=240_000)
        except Exception:
            page.screenshot(path=str(out / "failed.png"))
            raise
        dismiss_news(page)
        page.screenshot(path=str(out / "jupyterlab-widgets.png"))
        measure(page, widgets.nth(0), "5", "exit code", out / "termination-widget.png")
        measure(page, widgets.nth(1), "7", "your prediction:", out / "probe-widget.png")
        # the controls moved off their defaults (small, cpu-heavy, 500m, 1Gi); then a pod no node has room for
        for args, name in ((("medium-a", "large", "1", "2Gi", "large"), "choice-widget.png"),
                           (("small", "cpu-heavy", "8", "8Gi", "cpu-heavy"), "choice-widget-no-node.png")):
            print(measure_choice(page, widgets.nth(2), *args, out / name))
        browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run([str(BIN / "python"), "-c",
                        f"import podlab.session; print('swept:', podlab.session.sweep_labs([{LAB!r}]))"])


def stored_fallbacks(doc: str, call: str) -> list[dict]:
    """The stored outputs of the notebook's cells that show a widget."""
    cells = json.loads((ROOT / f"{doc}.ipynb").read_text())["cells"]
    return [o for c in cells if c["cell_type"] == "code" and call in "".join(c["source"])
            for o in c["outputs"] if o.get("output_type") == "execute_result"]


def check_site(p, chromium: str, out: Path) -> list[str]:
    """Build the widget chapters' pages as `make site` does and check what a static-site reader sees; return problems."""
    build = Path(tempfile.mkdtemp(prefix="podlab-site-"))
    toc = build / "_toc.yml"
    docs = list(SITE_PAGES)
    toc.write_text("format: jb-book\nroot: %s\nchapters:\n%s" % (docs[0], "".join(f"  - file: {d}\n" for d in docs[1:])))
    started = time.monotonic()
    subprocess.run([str(BIN / "jupyter-book"), "build", str(ROOT), "--config", str(ROOT / "book" / "_config.yml"),
                    "--toc", str(toc), "--path-output", str(build), "--all"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"built the pages of {', '.join(docs)} in {time.monotonic() - started:.0f} s")
    try:
        return _check_pages(p, chromium, out, build)
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _check_pages(p, chromium: str, out: Path, build: Path) -> list[str]:
    problems: list[str] = []
    browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    for doc, call in SITE_PAGES.items():
        stored = stored_fallbacks(doc, call)
        print(f"\n{doc}: {len(stored)} widget cell(s); stored output types: {[sorted(o['data']) for o in stored]}")
        for o in stored:
            print("  text/plain: " + "".join(o["data"].get("text/plain", "")).replace("\n", "\n              "))
            if WIDGET_VIEW in o["data"]:
                problems.append(f"{doc}: a widget view is stored")
        html_file = build / "_build" / "html" / f"{doc}.html"
        source = html_file.read_text()
        if WIDGET_VIEW in source or "jupyter-widgets" in source:
            problems.append(f"{doc}: the page refers to a widget view")
        page.goto(html_file.as_uri())
        shown = page.locator(".cell_output .podlab-widget-fallback")
        if shown.count() != len(stored) or not stored:
            problems.append(f"{doc}: {shown.count()} fallback(s) on the page, {len(stored)} widget cell(s) stored")
            continue
        for i in range(shown.count()):
            text = shown.nth(i).inner_text()
            print("  on the page: " + text.replace("\n", "\n               "))
            title, description = "".join(stored[i]["data"]["text/plain"]).splitlines()[:2]
            if not text.startswith(title.split(" (interactive")[0]) or description not in text:
                problems.append(f"{doc}: the page's fallback differs from the stored text/plain's title or description")
            cell = page.locator("div.cell", has=shown.nth(i))
            cell.scroll_into_view_if_needed()
            shot = out / f"site-{Path(doc).name.split('-')[0]}-widget-cell.png"
            cell.screenshot(path=str(shot))
            print(f"  saved {shot}")
    browser.close()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/podlab-widgets"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--no-site", action="store_true", help="skip the static-site check")
    parser.add_argument("--no-lab", action="store_true", help="skip JupyterLab (no cluster needed)")
    args = parser.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("This needs Playwright: `pip install playwright` (it drives --chromium; no browser is downloaded).",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        if not args.no_site:
            if (BIN / "jupyter-book").exists():
                problems = check_site(p, args.chromium, args.out)
            else:
                print("no jupyter-book in .venv (pip install -e '.[site]'): the static-site check is skipped")
        if not args.no_lab:
            run_lab(p, args.chromium, args.out)
    for problem in problems:
        print("✗", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
