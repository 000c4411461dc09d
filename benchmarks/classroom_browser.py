"""Classroom mode in a browser (issue 23): headless Chromium drives the single-machine JupyterHub.

    /root/.cache/pw-venv/bin/python benchmarks/classroom_browser.py [--out /tmp/podlab-classroom-shots]
        [--chromium /usr/bin/chromium] [--hub-python PYTHON --proxy CONFIGURABLE_HTTP_PROXY]

Run it with any Python that has Playwright (it drives the system's Chromium; no browser is
downloaded) and with an admin KUBECONFIG (default /root/.kube/podlab.config). It creates a course
of two students under a unique name (`podlab classroom create`, this checkout's .venv), starts
classroom/jupyterhub_config.py on free ports with the hub environment classroom/README.md
describes, and then, in Chromium, as a student would:

1. student-01 logs in on the hub's login page (DummyAuthenticator: any password);
2. their server starts and JupyterLab opens lab 1 (labs/01-downward-api.ipynb, the copy in their home);
3. they run lab 1's cells from the top through exercise 1's solution cell: the check on the
   unchanged starter says what is missing;
4. they type the solution into exercise 1's answer cell and run it and the check again: solved;
5. they run lab 1's Cleanup cell (lab.close());
6. they open lab 6, run its setup cell and exercise 3's cells: its check cell, tagged
   needs-cluster (a TokenReview is cluster-wide), prints the classroom skip line; then lab 6's
   closing cell;
7. the instructor's `podlab classroom report --html` page, opened in Chromium, shows student-01
   with exercise 1 solved (after an admin listing found no pod, Service or ConfigMap of the labs'
   sessions left in the student's namespace).

One screenshot per step goes to --out. The hub (it stops the users' servers and its proxy), any
server process left in the users' homes, the course (`podlab classroom delete`) and the scratch
folder are removed at the end, also when a step fails. Exit status 0 only if every step showed
what it should.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PODLAB = ROOT / ".venv" / "bin" / "podlab"
STUDENT = "student-01"
LAB1, LAB6 = "labs/01-downward-api.ipynb", "labs/06-the-control-plane.ipynb"  # paths in the repo and in the home
EXERCISE = "01-labels-annotations-files"
SOLUTION = ROOT / "labs" / "01-downward-api" / "ex1-labels-files.solution.yaml"
SKIP_START = "⤼ skipped in classroom mode: this cell needs more than your namespace"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def podlab(*args: str) -> str:
    """Run this checkout's podlab command as the instructor; its output (an error if it fails)."""
    done = subprocess.run([str(PODLAB), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"podlab {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def leftovers(namespace: str) -> str:
    """The session-labelled pods, Services and ConfigMaps in a namespace, as the instructor lists them."""
    code = ("import sys; from kubernetes import client; from podlab.connect import connect; from podlab.ownership import "
            "SESSION_LABEL as L; v1 = client.CoreV1Api(connect()); ns = sys.argv[1]; print(sorted("
            "f'{k}/{o.metadata.name}' for k, f in (('pod', v1.list_namespaced_pod), ('service', v1.list_namespaced_service), "
            "('configmap', v1.list_namespaced_config_map)) for o in f(ns, label_selector=L).items))")
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", code, namespace], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else done.stderr[-1500:]


def wait_for_hub(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/hub/api", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if process.poll() is not None:
            raise RuntimeError(f"the hub exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    raise RuntimeError(f"the hub did not answer within {seconds:.0f} s:\n{log.read_text()[-3000:]}")


def processes_under(folder: Path) -> list[int]:
    """Processes whose working directory lies under folder (the users' servers and kernels run in their homes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == folder or folder in cwd.parents:
            found.append(int(entry.name))
    return found


class Steps:
    """The browser's steps against the hub, each ending in a screenshot."""

    def __init__(self, page, url: str, out: Path) -> None:
        self.page, self.url, self.out, self.n = page, url, out, 0

    def shot(self, name: str, full_page: bool = False) -> Path:
        self.n += 1
        news = self.page.get_by_role("button", name="No", exact=True)
        if news.count():  # the toast "Would you like to get notified about official Jupyter news?"
            news.first.click()
            self.page.wait_for_timeout(300)
        path = self.out / f"{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        print(f"  saved {path}")
        return path

    def cells(self):
        return self.page.locator(".jp-NotebookPanel").filter(visible=True).locator(".jp-Notebook .jp-Cell")

    def cell_index(self, notebook: str, text: str) -> int:
        """The index of the first code cell of the notebook (as stored in this checkout) whose source contains text."""
        cells = json.loads((ROOT / notebook).read_text())["cells"]
        return next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and text in "".join(c["source"]))

    def idle(self, timeout_ms: int = 300_000) -> None:
        """Wait until the visible notebook's kernel is idle and no cell waits to run ([*])."""
        self.page.wait_for_timeout(500)
        panel = self.page.locator(".jp-NotebookPanel").filter(visible=True)
        panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=timeout_ms)
        deadline = time.monotonic() + timeout_ms / 1000
        while panel.locator(".jp-InputPrompt:has-text('[*]')").count():
            if time.monotonic() > deadline:
                raise RuntimeError("cells still waiting to run")
            time.sleep(0.5)

    def run_cells(self, first: int, last: int) -> None:
        """Select cell first and press Shift+Enter until cell last has run (markdown cells render)."""
        cells = self.cells()
        cells.nth(first).locator(".jp-Cell-inputArea").click()
        self.page.keyboard.press("Escape")  # command mode: Shift+Enter runs the selected cell and moves on
        for _ in range(first, last + 1):
            self.page.keyboard.press("Shift+Enter")
            self.page.wait_for_timeout(150)
        self.idle()

    def output(self, i: int) -> str:
        return self.cells().nth(i).locator(".jp-OutputArea").text_content() or ""  # text_content: also off screen

    def show(self, i: int) -> None:
        """Scroll so that cell i sits in the view, its end visible."""
        self.cells().nth(i).scroll_into_view_if_needed()
        self.page.wait_for_timeout(500)

    def open_notebook(self, path: str) -> None:
        self.page.goto(f"{self.url}/user/{STUDENT}/lab/tree/{path}", timeout=120_000)
        self.cells().first.wait_for(timeout=120_000)
        select = self.page.locator(".jp-Dialog button:has-text('Select')")
        try:  # a notebook whose kernel is not running yet may ask which kernel to start
            select.wait_for(timeout=5_000)
            select.click()
        except Exception:
            pass
        self.idle(timeout_ms=120_000)

    def close_lab(self, notebook: str, what: str) -> None:
        """Run the notebook's lab.close() cell, check it printed no error, and scroll to it."""
        close = self.cell_index(notebook, "lab.close()")
        self.run_cells(close, close)
        text = self.output(close)
        expect(f"{what} closed without an error", "Error" not in text and "Traceback" not in text, text)
        self.show(close)

    def clear_outputs(self) -> None:
        """Edit > Clear Outputs of All Cells: the labs are stored with outputs, and what follows must be this run's."""
        self.page.get_by_role("menuitem", name="Edit", exact=True).click()
        self.page.locator("li[data-command='editmenu:clear-all']").click()
        self.page.wait_for_timeout(500)
        left = self.page.locator(".jp-NotebookPanel").filter(visible=True).locator(".jp-OutputArea-output").count()
        if left:
            raise RuntimeError(f"{left} outputs left after clearing them")


def expect(what: str, ok: bool, seen: str) -> None:
    if not ok:
        raise AssertionError(f"{what}; the page shows:\n{seen}")
    print(f"✓ {what}")


def drive(p, chromium: str, url: str, course: str, report: Path, out: Path) -> None:
    browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    steps = Steps(page, url, out)
    try:
        # 1. the hub's login page (DummyAuthenticator)
        page.goto(f"{url}/hub/login", timeout=60_000)
        page.locator("#username_input").fill(STUDENT)
        page.locator("#password_input").fill("any password")
        steps.shot("hub-login")
        started = time.monotonic()
        page.locator("#login_submit").click()

        # 2. the spawner hook gave the server the student's kubeconfig and the labs: lab 1 opens (the default URL)
        page.wait_for_url(f"**/user/{STUDENT}/lab/**", timeout=180_000)
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=180_000)
        steps.open_notebook(LAB1)
        print(f"  JupyterLab showed lab 1 {time.monotonic() - started:.0f} s after the login")
        steps.shot("lab1-open")
        steps.clear_outputs()

        # 3. lab 1 from the top through exercise 1's solution cell (the check runs on the starter)
        setup = steps.cell_index(LAB1, 'podlab.open_lab("lab01")')
        answer = steps.cell_index(LAB1, "# Your answer: a copy of the starter.")
        check = steps.cell_index(LAB1, "ex.check(lab, answer)")
        solution = steps.cell_index(LAB1, "ex.show_solution()")
        steps.run_cells(0, solution)
        text = steps.output(setup)
        expect(f"lab 1 opened in the student's namespace (course {course})",
               f"namespace {course}-{STUDENT} (course {course}" in text, text)
        text = steps.output(check)
        expect("the check on the starter says what is missing",
               "Not solved yet" in text and "expected a line 'labels'" in text, text)
        steps.show(check)
        steps.shot("lab1-starter-checked")
        steps.show(solution)
        steps.shot("lab1-solution-shown")

        # 4. type the solution into the answer cell, run it and the check again
        editor = steps.cells().nth(answer).locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text('answer = """\\\n' + SOLUTION.read_text() + '"""')
        page.keyboard.press("Shift+Enter")
        steps.idle()
        steps.run_cells(check, check)
        text = steps.output(check)
        expect(f"the check of the typed solution says {EXERCISE} solved",
               f"Exercise {EXERCISE} solved" in text and "Not solved" not in text, text)
        steps.show(check)
        steps.shot("lab1-solved")

        # 5. lab 1's Cleanup cell
        steps.close_lab(LAB1, "lab 1")
        steps.shot("lab1-closed")

        # 6. lab 6: setup, exercise 3's cells; its check cell is tagged needs-cluster
        steps.open_notebook(LAB6)
        steps.clear_outputs()
        setup6 = steps.cell_index(LAB6, 'podlab.open_lab("lab06")')
        steps.run_cells(setup6, setup6)
        task = steps.cell_index(LAB6, 'exercises["06-projected-token"]')
        stored = json.loads((ROOT / LAB6).read_text())["cells"]
        tagged = next(i for i in range(task, len(stored)) if "needs-cluster" in stored[i]["metadata"].get("tags", []))
        source = "".join(stored[tagged]["source"])
        expect(f"lab 6's exercise 3 check (cell {tagged}) is tagged needs-cluster", source == "ex.check(lab, answer)", source)
        steps.run_cells(task, tagged)
        text = steps.output(tagged)
        expect("the needs-cluster cell printed the skip line and nothing else",
               text.strip().startswith(SKIP_START) and f"{course}-{STUDENT}" in text and len(text.strip().splitlines()) == 1,
               text)
        steps.show(tagged)
        steps.shot("lab6-needs-cluster-skipped")
        steps.close_lab(LAB6, "lab 6")
        left = leftovers(f"{course}-{STUDENT}")
        expect(f"no pod, Service or ConfigMap of the labs' sessions is left in {course}-{STUDENT}", left == "[]", left)

        # 7. the instructor's report
        table = podlab("classroom", "report", "--course", course, "--html", str(report))
        print(table)
        page.goto(report.as_uri())
        row = page.locator("tr", has=page.locator(f"th:text-is('{STUDENT}')"))
        columns = [t.strip() for t in page.locator("thead th").all_inner_texts()]
        cells = [t.strip() for t in row.locator("th, td").all_inner_texts()]
        mark = cells[columns.index(EXERCISE)] if EXERCISE in columns and len(cells) == len(columns) else "?"
        title = row.locator("td").nth(columns.index(EXERCISE) - 1).get_attribute("title") if mark != "?" else ""
        expect(f"the HTML report shows {STUDENT} with {EXERCISE} solved (✓)", mark == "✓" and title == "solved",
               f"{columns}\n{cells}")
        page.locator(f"th:text-is('{EXERCISE}')").scroll_into_view_if_needed()
        steps.shot("instructor-report")
        steps.shot("instructor-report-whole-table", full_page=True)  # all 34 exercises and the last check, small
    except Exception:
        try:
            steps.shot("failed")
        except Exception:
            pass
        raise
    finally:
        browser.close()


def hub_environment() -> tuple[Path, Path] | None:
    """The hub's Python and proxy from podlab.hubenv (built once, cached outside the repository)."""
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "podlab.hubenv"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(f"building the hub environment failed (python -m podlab.hubenv):\n{done.stderr}", file=sys.stderr)
        return None
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return Path(found["PODLAB_HUB_PYTHON"]), Path(found["PODLAB_HUB_PROXY"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/podlab-classroom-shots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--hub-python", type=Path, help="default: the hub environment `python -m podlab.hubenv` builds")
    parser.add_argument("--proxy", type=Path, help="default: the same environment's configurable-http-proxy")
    args = parser.parse_args()
    if args.hub_python is None or args.proxy is None:
        built = hub_environment()
        if built is None:
            return 2
        args.hub_python = args.hub_python or built[0]
        args.proxy = args.proxy or built[1]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("This needs Playwright: `pip install playwright` (it drives --chromium; no browser is downloaded).",
              file=sys.stderr)
        return 2
    for what, path in (("the hub's Python", args.hub_python), ("configurable-http-proxy", args.proxy),
                       ("Chromium", Path(args.chromium)), ("this checkout's podlab", PODLAB)):
        if not path.exists():
            print(f"{what} is missing: {path} (classroom/README.md says how to install the hub).", file=sys.stderr)
            return 2
    os.environ.setdefault("KUBECONFIG", "/root/.kube/podlab.config")  # the instructor's (admin) kubeconfig
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        old.unlink()
    course = "browser-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
    scratch = Path(tempfile.mkdtemp(prefix="podlab-classroom-browser-"))
    kubeconfigs, state, log = scratch / "kubeconfigs", scratch / "state", scratch / "hub.log"
    url = f"http://127.0.0.1:{free_port()}"
    hub = None
    failed = False
    try:
        print(f"course {course}: creating two students")
        print(podlab("classroom", "create", "--course", course, "--students", "2", "--out", str(kubeconfigs),
                     "--cpu-overcommit", "8"))  # the cluster is shared: as tests/live/test_classroom_hub.py sizes it
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}  # the hub itself needs no cluster
        env.update(PODLAB_HUB_KUBECONFIGS=str(kubeconfigs), PODLAB_HUB_STATE=str(state), PODLAB_HUB_PROXY=str(args.proxy),
                   PODLAB_HUB_URL=url, PODLAB_HUB_API_URL=f"http://127.0.0.1:{free_port()}",
                   PODLAB_HUB_PROXY_API_URL=f"http://127.0.0.1:{free_port()}")
        with log.open("w") as sink:
            hub = subprocess.Popen([str(args.hub_python), "-m", "jupyterhub", "-f",
                                    str(ROOT / "classroom" / "jupyterhub_config.py")],
                                   cwd=scratch, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_hub(url, hub, log)
        print(f"hub at {url} (pid {hub.pid}); its log: {log}")
        with sync_playwright() as p:
            drive(p, args.chromium, url, course, scratch / "report.html", args.out)
    except Exception as e:
        failed = True
        print(f"✗ {type(e).__name__}: {e}", file=sys.stderr)
        if log.exists():
            print("the hub's log, last lines:\n" + log.read_text()[-2000:], file=sys.stderr)
    finally:
        if hub is not None:
            hub.send_signal(signal.SIGTERM)  # the hub stops the users' servers (and their kernels) and its proxy
            try:
                hub.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(hub.pid, signal.SIGKILL)
                hub.wait()
            print(f"hub stopped (exit {hub.returncode})")
        left = processes_under(state)
        for pid in left:  # a user's server or kernel the hub did not stop: started by this run, in its homes
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        print(f"processes left in the users' homes: {len(left)}{' (killed)' if left else ''}")
        try:
            print(podlab("classroom", "delete", "--course", course, "--out", str(kubeconfigs)))
        except Exception as e:
            failed = True
            print(f"✗ deleting course {course}: {e}", file=sys.stderr)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"screenshots: {', '.join(sorted(p.name for p in args.out.glob('*.png')))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
