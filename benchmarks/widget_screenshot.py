"""Show the predict-then-measure widgets working in JupyterLab: headless Chromium runs them and takes screenshots.

    pip install playwright            # any Python; it drives the system's Chromium, nothing is downloaded
    python benchmarks/widget_screenshot.py --out /tmp/shots [--chromium /usr/bin/chromium]

It starts JupyterLab (this checkout's .venv) on a scratch notebook that shows both widgets,
runs all cells, sets each widget's prediction, presses Measure (a real pod on the lab
cluster), waits for the result, and saves one screenshot per widget. The lab namespace is
closed at the end, also when something fails.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
LAB = "widget-screenshot"
CELLS = [
    "import podlab\nlab = podlab.open_lab(%r)" % LAB,
    "podlab.timing.termination_widget(lab)",
    "podlab.timing.probe_widget(lab)",
]


def notebook() -> dict:
    """A scratch notebook with the two widgets."""
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s,
              "id": f"cell-{i}"} for i, s in enumerate(CELLS)]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    widget.screenshot(path=str(out))
    print(f"saved {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/podlab-widgets"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("This needs Playwright: `pip install playwright` (it drives --chromium; no browser is downloaded).",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="podlab-widgets-"))
    (scratch / "widgets.ipynb").write_text(json.dumps(notebook()))
    port, token = free_port(), "podlab-screenshot"
    server = subprocess.Popen([str(BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={scratch}",
                               "--allow-root"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 2600})
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
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
            news = page.locator(".jp-Notification-Toast button:has-text('No')")
            if news.count():  # "Would you like to get notified about official Jupyter news?"
                news.first.click()
            page.get_by_role("menuitem", name="Run").click()
            page.locator("li[data-command='runmenu:run-all']").click()
            widgets = page.locator(".jp-OutputArea-output .widget-vbox")
            try:
                widgets.nth(1).wait_for(timeout=60_000)
            except Exception:
                page.screenshot(path=str(args.out / "failed.png"))
                raise
            page.screenshot(path=str(args.out / "jupyterlab-widgets.png"))
            measure(page, widgets.nth(0), "5", "exit code", args.out / "termination-widget.png")
            measure(page, widgets.nth(1), "7", "your prediction:", args.out / "probe-widget.png")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run([str(BIN / "python"), "-c", f"import podlab.session; print(podlab.session.sweep_labs([{LAB!r}]))"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
