"""Live: lab sessions in classroom mode, with a student's kubeconfig from `podlab classroom create`.

A session works inside the student's namespace, labels what it applies with its session id and
deletes by that label at close (after a killed kernel too), never the namespace, never another
session's objects nor the other student's; lab 1's exercises solved as a student show in the
instructor's report; in a real kernel, a cell tagged needs-cluster sent as JupyterLab sends it
prints its one line and does not run. One course of two students with a unique name, deleted at
the end whatever happened.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import string
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from podlab import classroom
from podlab._api import request_json
from podlab.classmode import current_classroom, skip_line
from podlab.classprogress import PROGRESS_CONFIGMAP, ConfigMapProgress
from podlab.cli import main
from podlab.conditions import ready
from podlab.connect import connect
from podlab.errors import PodlabError
from podlab.exercises import load_exercises
from podlab.ownership import SESSION_LABEL
from podlab.session import ANCHOR_PREFIX, Lab, lab_namespaces, open_lab
from podlab.waiting import wait_for_objects
from shared_manifests import sleeper_pod

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
LABS = ROOT / "labs"


@pytest.fixture(scope="module")
def course(live_cluster, tmp_path_factory):
    """A course of two students; deleted at the end, whatever happened."""
    name = "t-cll-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
    out = tmp_path_factory.mktemp("kubeconfigs")
    try:
        # cpu_overcommit: other tests' pods request CPU beside this one (see test_classroom.py)
        students = classroom.create(live_cluster, name, classroom.roster(name, students=2), out=out, labs=LABS,
                                    cpu_overcommit=8)
        yield {"name": name, "out": out, "students": students}
    finally:
        classroom.delete(live_cluster, name, out=out)


def session_objects(api, namespace: str) -> dict[str, set[str]]:
    """kind/name of the pods, services and configmaps in the namespace, by session label ("" for none)."""
    found: dict[str, set[str]] = {}
    for plural in ("pods", "services", "configmaps"):
        for obj in request_json(api, "GET", f"/api/v1/namespaces/{namespace}/{plural}")["items"]:
            session = (obj["metadata"].get("labels") or {}).get(SESSION_LABEL, "")
            found.setdefault(session, set()).add(f"{plural}/{obj['metadata']['name']}")
    return found


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}


def uid(api, namespace: str, name: str) -> str:
    return request_json(api, "GET", f"/api/v1/namespaces/{namespace}/pods/{name}")["metadata"]["uid"]


def test_sessions_work_in_the_students_namespace_and_remove_only_their_own(live_cluster, course, capsys):
    a, b = course["students"]
    api_a, api_b = connect(a.kubeconfig), connect(b.kubeconfig)
    first = open_lab("t-room", kubeconfig=a.kubeconfig)
    second = open_lab("t-room-2", kubeconfig=a.kubeconfig)  # the same student's second notebook
    other = open_lab("t-room-b", kubeconfig=b.kubeconfig)   # the other student (a lab of the same name would
    # replace the first session in this process, as re-running a notebook's first cell does)
    try:
        announce = capsys.readouterr().out.splitlines()[0]
        assert announce.startswith(f"lab t-room: namespace {a.namespace} (course {course['name']}, "
                                   f"session {first.session}) on context podlab-classroom-{a.namespace} ")
        assert (first.namespace, second.namespace, other.namespace) == (a.namespace, a.namespace, b.namespace)
        assert isinstance(first.progress, ConfigMapProgress) and first.progress.namespace == a.namespace
        for lab, pod in ((first, "demo"), (second, "other"), (other, "demo")):
            lab.apply(sleeper_pod(pod))
        # a Service: the EndpointSlice controller copies its labels, the session's too, to its slices,
        # which a student may not delete (they go with the Service)
        first.apply(SERVICE)
        first.wait_for_objects("EndpointSlice", f"kubernetes.io/service-name=web,{SESSION_LABEL}={first.session}",
                               lambda found: len(found) == 1, description="one slice with the session's label",
                               api_version="discovery.k8s.io/v1")
        for lab, pod in ((first, "demo"), (second, "other"), (other, "demo")):
            labels = lab.wait(pod, ready)["metadata"]["labels"]
            assert labels[SESSION_LABEL] == lab.session
        # the second session neither takes over nor deletes the first one's pod of the same name
        before = uid(api_a, a.namespace, "demo")
        with pytest.raises(PodlabError, match=f"pod/demo already exists in {a.namespace}, made by your lab "
                                              f"session {first.session}"):
            second.apply(sleeper_pod("demo"))
        assert second.delete("demo") == []
        assert uid(api_a, a.namespace, "demo") == before
        assert lab_namespaces(["t-room"], kubeconfig=a.kubeconfig) == [a.namespace]  # as a student sees it
        first.close()
        assert lab_namespaces(["t-room"], kubeconfig=a.kubeconfig) == []
        assert lab_namespaces(kubeconfig=a.kubeconfig) == [a.namespace]  # the second session is still open
        left = session_objects(api_a, a.namespace)
        print(left)
        assert first.session not in left  # its pod, its Service and its anchor are gone, waited for
        slices = request_json(api_a, "GET", f"/apis/discovery.k8s.io/v1/namespaces/{a.namespace}/endpointslices",
                              query=[("labelSelector", f"{SESSION_LABEL}={first.session}")])["items"]
        assert slices == []  # the Service was deleted in the foreground: its slices went first
        assert left[second.session] == {"pods/other", f"configmaps/{ANCHOR_PREFIX}{second.session}"}
        assert "pods/demo" in session_objects(api_b, b.namespace)[other.session]
        second.close()
        assert lab_namespaces(kubeconfig=a.kubeconfig) == []  # the progress ConfigMap is no session's
        left = session_objects(api_a, a.namespace)
        assert set(left) == {""} and not any(key.startswith("pods/") for key in left[""]), left
        # the namespace stays: the student's, with what `create` and the cluster put there
        assert request_json(live_cluster, "GET", f"/api/v1/namespaces/{a.namespace}")["status"]["phase"] == "Active"
    finally:
        for lab in (first, second, other):
            lab.close()
    assert set(session_objects(api_b, b.namespace)) == {""}


KILLED = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from podlab.session import open_lab
    from podlab.conditions import ready
    lab = open_lab("t-killed", kubeconfig=Path(sys.argv[1]))
    lab.apply(sys.argv[2])
    lab.wait("doomed", ready)
    print("SESSION", lab.session, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # as nbval shuts its kernels down: no atexit, no close
""")


def test_a_notebook_run_again_from_the_top_applies_its_objects_afresh(course):
    """Opening the same lab again closes the earlier session without waiting; its pod, still
    terminating under the same name, is waited out, not refused nor taken over."""
    a = course["students"][0]
    earlier = open_lab("t-rerun", kubeconfig=a.kubeconfig)
    earlier.apply(sleeper_pod("demo"))
    earlier.wait("demo", ready)
    old = uid(connect(a.kubeconfig), a.namespace, "demo")
    with open_lab("t-rerun", kubeconfig=a.kubeconfig) as again:
        again.apply(sleeper_pod("demo"))
        pod = again.wait("demo", ready)
        assert pod["metadata"]["uid"] != old and pod["metadata"]["labels"][SESSION_LABEL] == again.session
    assert earlier._uid is None  # closed by the second open


def test_a_killed_kernels_objects_are_reaped_and_nothing_else(course):
    a = course["students"][0]
    api = connect(a.kubeconfig)
    keeper = open_lab("t-keeper", kubeconfig=a.kubeconfig)  # a live session beside it keeps its pod
    try:
        keeper.apply(sleeper_pod("kept"))
        keeper.wait("kept", ready)
        run = subprocess.run([sys.executable, "-c", KILLED, str(a.kubeconfig), sleeper_pod("doomed")],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
        session = run.stdout.split("SESSION ", 1)[1].split()[0]
        wait_for_objects(a.namespace, "Pod", f"{SESSION_LABEL}={session}", lambda found: not found,
                         description="gone (the reaper deleted the killed session's pods)", timeout=120, api=api)
        wait_for_objects(a.namespace, "ConfigMap", f"{SESSION_LABEL}={session}", lambda found: not found,
                         description="gone (the killed session's anchor)", timeout=60, api=api)
        assert keeper.pod("kept")["metadata"]["labels"][SESSION_LABEL] == keeper.session
    finally:
        keeper.close()


def test_a_gone_sessions_leftovers_are_swept_when_a_lab_opens(course):
    """A session whose reaper died too (a machine restart): its anchor names a holder that is gone."""
    a = course["students"][0]
    api = connect(a.kubeconfig)
    gone = Lab("t-gone", kubeconfig=a.kubeconfig).open()
    gone.apply(sleeper_pod("stale"))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(ended.stdout)  # a process of this host that has ended
    gone._reaper.dismiss()  # as if the reaper had died with the machine
    gone._reaper = None
    request_json(api, "PATCH", f"/api/v1/namespaces/{a.namespace}/configmaps/{ANCHOR_PREFIX}{gone.session}",
                 body={"metadata": {"annotations": {"podlab.dev/holder": f"{socket.gethostname()} {dead} 1"}}},
                 content_type="application/merge-patch+json")
    gone._uid = None  # this process forgets it without closing
    with open_lab("t-sweeper", kubeconfig=a.kubeconfig) as lab:
        wait_for_objects(a.namespace, "Pod", f"{SESSION_LABEL}={gone.session}", lambda found: not found,
                         description="gone (swept by the next session's open)", timeout=120, api=api)
        assert lab.session in session_objects(api, a.namespace)


def test_lab_1s_exercises_solved_as_a_student_show_in_the_report(course, capsys, tmp_path):
    """Lab 1's solutions pass in the student's namespace and the verdicts go to its progress ConfigMap."""
    a = course["students"][0]
    api = connect(a.kubeconfig)
    exercises = [e for e in load_exercises(LABS / "01-downward-api" / "exercises.py")]
    quick = [e for e in exercises if e.id in ("01-labels-annotations-files", "01-limits-in-units", "01-owner-only-files")]
    with open_lab("downward-api", kubeconfig=a.kubeconfig) as lab:
        quick[1].check(lab, quick[1].starter)  # a failed attempt first
        for exercise in quick:
            exercise.check(lab, exercise.solution)
        session = lab.session
    out = capsys.readouterr().out
    assert out.count("🎉 Exercise") == 3 and "✗ Not solved yet." in out, out
    assert session not in session_objects(api, a.namespace)
    stored = request_json(api, "GET", f"/api/v1/namespaces/{a.namespace}/configmaps/{PROGRESS_CONFIGMAP}")["data"]
    records = {key: json.loads(value) for key, value in stored.items()}
    assert {key: (r["outcome"], r["attempts"], r["solved_at"] is not None) for key, r in records.items()} == {
        "01-labels-annotations-files": ("passed", 1, True), "01-limits-in-units": ("passed", 2, True),
        "01-owner-only-files": ("passed", 1, True)}
    csv_file = tmp_path / "report.csv"
    assert main(["classroom", "report", "--course", course["name"], "--csv", str(csv_file)]) == 0
    table = capsys.readouterr().out
    print(table)
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.startswith("student-")}
    total = sum(len(load_exercises(f)) for f in sorted(LABS.glob("*/exercises.py")))
    assert rows["student-01"][1:4] == [f"3/{total}", "0", f"3/{len(exercises)}"]
    assert rows["student-02"][1:4] == [f"0/{total}", "0", f"0/{len(exercises)}"]
    lines = csv_file.read_text().splitlines()
    assert any(l.startswith(f"student-01,{a.namespace},01-limits-in-units,solved,passed,2,") for l in lines)


# -- in a real kernel, as JupyterLab sends cells ------------------------------------------------------

def execute(client, code: str, tags: list[str] | None = None) -> tuple[str, list[str]]:
    """Send an execute_request as JupyterLab 4 does (the cell's metadata, tags included, in the request's
    metadata); return the reply's status and the stream text and errors the cell produced."""
    metadata = {"cellId": "c-" + "".join(random.choices(string.ascii_lowercase, k=8))}
    if tags is not None:
        metadata["tags"] = tags
    msg = client.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                                 "user_expressions": {}, "allow_stdin": False,
                                                 "stop_on_error": True}, metadata=metadata)
    client.shell_channel.send(msg)
    while True:
        reply = client.get_shell_msg(timeout=300)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            break
    outputs = []
    while True:
        out = client.get_iopub_msg(timeout=60)
        if out["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        kind = out["msg_type"]
        if kind == "stream":
            outputs.append(out["content"]["text"])
        elif kind == "error":
            outputs.append(f"{out['content']['ename']}: {out['content']['evalue']}")
        elif kind == "status" and out["content"]["execution_state"] == "idle":
            return reply["content"]["status"], outputs


@pytest.mark.parametrize("as_student", [True, False], ids=["classroom", "not-classroom"])
def test_a_needs_cluster_cell_prints_its_line_in_classroom_mode_only(course, as_student):
    from jupyter_client.manager import start_new_kernel

    a = course["students"][0]
    env = {**os.environ}
    if as_student:
        env["KUBECONFIG"] = str(a.kubeconfig)
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        status, _ = execute(client, "import podlab\nlab = podlab.open_lab('t-skip')")
        assert status == "ok"
        tagged = "print('ran the tagged cell'); raise RuntimeError('must not run in classroom mode')"
        status, outputs = execute(client, tagged, tags=["needs-cluster"])
        if as_student:
            line = skip_line(current_classroom([a.kubeconfig]))
            assert (status, outputs) == ("ok", [line + "\n"])
        else:
            assert status == "error" and outputs == ["ran the tagged cell\n", "RuntimeError: must not run in classroom mode"]
        status, outputs = execute(client, "print('an untagged cell runs')", tags=["solution"])
        assert (status, outputs) == ("ok", ["an untagged cell runs\n"])
        status, outputs = execute(client, f"_ = lab.apply({sleeper_pod('skip-demo')!r})\nprint(lab.namespace)")
        assert status == "ok"
        assert (outputs[0].strip() == a.namespace) is as_student
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)  # killed, as nbval does: the reaper cleans up
    if as_student:
        for kind in ("Pod", "ConfigMap"):  # the session's anchor too
            wait_for_objects(a.namespace, kind, "podlab.dev/lab=t-skip", lambda found: not found,
                             description="gone (the killed kernel's session reaped)", timeout=120,
                             api=connect(a.kubeconfig))
