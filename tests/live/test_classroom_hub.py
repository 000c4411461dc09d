"""Live: the single-machine JupyterHub of classroom/jupyterhub_config.py, driven over HTTP as a
browser would: a student logs in with the test authenticator, their server starts with their
kubeconfig (the spawner hook), a kernel opens lab 1 in the student's namespace, solves an exercise,
skips a cell tagged needs-cluster as JupyterLab sends it, and the instructor's report shows the
exercise solved.

JupyterHub and configurable-http-proxy come from `podlab.hubenv.ensure()`: built once (PyPI and
npm, pinned) in podlab's cache and reused. PODLAB_HUB_PYTHON (a Python with jupyterhub and
jupyterlab) and PODLAB_HUB_PROXY (the configurable-http-proxy command) override it. An environment
that cannot be built fails the test in CI (CI=true or PODLAB_REQUIRE_CLUSTER=1) with the build's
error, and elsewhere skips it with that error and what to install.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import string
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
import websocket

from podlab import classroom, hubenv
from podlab.classmode import current_classroom, skip_line
from podlab.cli import main
from podlab.errors import PodlabError

# alone: on a cold cache it builds the hub's environment (pip and npm, about 80 s of CPU) before JupyterHub,
# JupyterLab and a kernel start
pytestmark = [pytest.mark.live, pytest.mark.alone]

ROOT = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    """Whether a missing hub environment must fail rather than skip (as tests/conftest.py treats a cluster)."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("PODLAB_REQUIRE_CLUSTER") == "1"


def hub_programs() -> tuple[str, str]:
    """JupyterHub's Python and the proxy command: the environment variables, else podlab's cached build."""
    python, proxy = os.environ.get("PODLAB_HUB_PYTHON", ""), os.environ.get("PODLAB_HUB_PROXY", "")
    if python or proxy:
        missing = [f"{name}={value!r}" for name, value in (("PODLAB_HUB_PYTHON", python), ("PODLAB_HUB_PROXY", proxy))
                   if not (value and Path(value).exists())]
        if missing:
            pytest.fail(f"{', '.join(missing)}: set both to existing files, or neither (podlab builds its own)",
                        pytrace=False)
        return python, proxy
    try:
        built = hubenv.ensure()
    except PodlabError as e:
        if in_ci():
            pytest.fail(f"the hub environment could not be built:\n{e}", pytrace=False)
        pytest.skip(f"the hub environment could not be built (it needs PyPI, the npm registry, Node.js and npm; "
                    f"or set PODLAB_HUB_PYTHON and PODLAB_HUB_PROXY, classroom/README.md): {e}")
    return str(built.python), str(built.proxy)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hub(live_cluster, tmp_path):
    """A course of two students and the hub serving it; both gone at the end."""
    hub_python, hub_proxy = hub_programs()
    name = "t-hub-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
    out = tmp_path / "kubeconfigs"
    url = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}  # the hub itself needs no cluster
    env.update(PODLAB_HUB_KUBECONFIGS=str(out), PODLAB_HUB_STATE=str(tmp_path / "state"), PODLAB_HUB_PROXY=hub_proxy,
               PODLAB_HUB_URL=url, PODLAB_HUB_API_URL=f"http://127.0.0.1:{free_port()}",
               PODLAB_HUB_PROXY_API_URL=f"http://127.0.0.1:{free_port()}")
    process = None
    log = tmp_path / "hub.log"
    try:
        students = classroom.create(live_cluster, name, classroom.roster(name, students=2), out=out,
                                    labs=ROOT / "labs", cpu_overcommit=8)
        with log.open("w") as sink:
            process = subprocess.Popen([hub_python, "-m", "jupyterhub", "-f", str(ROOT / "classroom" / "jupyterhub_config.py")],
                                       cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/hub/api", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        else:
            pytest.fail(f"the hub did not answer within 60 s:\n{log.read_text()[-3000:]}")
        yield {"url": url, "course": name, "students": students, "log": log}
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)  # the hub stops the users' servers and its proxy
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        classroom.delete(live_cluster, name, out=out)


def login(url: str, user: str) -> requests.Session:
    """Log in as a browser does (the login form with its _xsrf field), and wait until the user's server answers."""
    session = requests.Session()
    session.get(f"{url}/hub/login", timeout=10)
    reply = session.post(f"{url}/hub/login", data={"username": user, "password": "any",
                                                    "_xsrf": session.cookies.get("_xsrf", path="/hub/")}, timeout=30)
    assert reply.status_code == 200, reply.text[:500]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        reply = session.get(f"{url}/user/{user}/lab", timeout=30)  # the OAuth round trip sets the server's cookies
        if reply.status_code == 200 and "jupyter-config-data" in reply.text:
            return session
        time.sleep(1)
    raise AssertionError(f"the server of {user} did not start: {reply.status_code} {reply.text[:300]}")


class Kernel:
    """A kernel of the user's server, spoken to over its websocket as JupyterLab does."""

    def __init__(self, url: str, user: str, session: requests.Session) -> None:
        self.xsrf = session.cookies.get("_xsrf", path=f"/user/{user}/") or session.cookies.get("_xsrf")
        reply = session.post(f"{url}/user/{user}/api/kernels", json={"name": "python3"},
                             headers={"X-XSRFToken": self.xsrf}, timeout=60)
        assert reply.status_code == 201, reply.text[:500]
        self.id = reply.json()["id"]
        cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        self.ws = websocket.create_connection(
            f"{url.replace('http', 'ws', 1)}/user/{user}/api/kernels/{self.id}/channels?session_id={uuid.uuid4().hex}",
            header=[f"Cookie: {cookies}", f"X-XSRFToken: {self.xsrf}"], timeout=300)

    def run(self, code: str, tags: list[str] | None = None) -> tuple[str, str]:
        """Execute a cell (its metadata, tags included, in the request's metadata); its status and printed text."""
        msg_id = uuid.uuid4().hex
        metadata = {"cellId": uuid.uuid4().hex, **({"tags": tags} if tags is not None else {})}
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "", "session": "",
                       "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": metadata, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        text, status, idle = [], None, False
        while status is None or not idle:
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                text.append(msg["content"]["text"])
            elif kind == "error":
                text.append("\n".join(msg["content"]["traceback"][-3:]))
            elif kind == "execute_reply":
                status = msg["content"]["status"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        return status, "".join(text)


def test_a_student_solves_an_exercise_through_the_hub_and_the_report_shows_it(hub, capsys):
    student = hub["students"][0]
    session = login(hub["url"], "student-01")
    kernel = Kernel(hub["url"], "student-01", session)
    status, out = kernel.run("import podlab\nlab = podlab.open_lab('downward-api')")
    print(out)
    assert status == "ok" and out.startswith(f"lab downward-api: namespace {student.namespace} (course {hub['course']}")
    status, out = kernel.run("ex = {e.id: e for e in podlab.load_exercises('labs/01-downward-api/exercises.py')}"
                             "['01-limits-in-units']\nex.check(lab, ex.solution)")
    print(out)
    assert status == "ok" and out.strip().endswith("\n🎉 Exercise 01-limits-in-units solved"), out
    status, out = kernel.run("raise RuntimeError('a needs-cluster cell ran')", tags=["needs-cluster"])
    assert (status, out) == ("ok", skip_line(current_classroom([student.kubeconfig])) + "\n")
    status, out = kernel.run("lab.close()")
    assert status == "ok", out
    html = Path(hub["log"]).parent / "report.html"
    capsys.readouterr()
    assert main(["classroom", "report", "--course", hub["course"], "--html", str(html)]) == 0
    table = capsys.readouterr().out
    print(table)
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.startswith("student-")}
    assert rows["student-01"][1].startswith("1/") and rows["student-02"][1].startswith("0/")
    page = html.read_text()
    assert '<td class="solved" title="solved">✓</td>' in page
