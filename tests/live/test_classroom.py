"""Live: `podlab classroom` confines each student to their namespace, refuses the rest, reports
progress from the students' ConfigMaps, and its delete leaves the cluster as it was.

Two students of a course with a unique name; the tests run in file order on one course (the last
one deletes it, and the module's finalizer deletes it again whatever failed before).
"""

from __future__ import annotations

import random
import re
import string
import time
from pathlib import Path

import pytest

from podlab import classprogress, classroom
from podlab._api import request_json, send_request
from podlab.checks import FAILED, PASSED, Check
from podlab.classprogress import PROGRESS_CONFIGMAP, ConfigMapProgress
from podlab.cli import main
from podlab.conditions import ready
from podlab.connect import connect, server_version
from podlab.images import LAB_IMAGE
from podlab.manifests import apply
from podlab.pods import exec_in_pod, logs
from podlab.waiting import wait_until

# alone: test_delete_leaves_the_cluster_as_it_was compares the cluster's namespaces, roles, bindings and
# ServiceAccounts before and after, which other tests' cluster-scoped objects (test_ownership's ClusterRole,
# KWOK's installation) would change
pytestmark = [pytest.mark.live, pytest.mark.alone]

LABS = Path(__file__).resolve().parents[2] / "labs"
TOKEN_SECONDS = classroom.MIN_TOKEN_SECONDS  # the shortest TokenRequest gives (test_classroom_expiry waits one out)


def pod(name: str, **spec_extra) -> dict:
    container = {"name": "app", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                 "command": ["sh", "-c", "echo started; exec sleep 3600"]}
    container.update(spec_extra.pop("container", {}))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [container], **spec_extra}}


def snapshot(api, course: str) -> dict[str, set[str]]:
    """Namespaces, roles, bindings and ServiceAccounts now, and (as "sessions") the namespaces of lab sessions
    and of other courses, which come and go beside this test."""
    paths = {"namespaces": "/api/v1/namespaces", "serviceaccounts": "/api/v1/serviceaccounts",
             "roles": "/apis/rbac.authorization.k8s.io/v1/roles",
             "rolebindings": "/apis/rbac.authorization.k8s.io/v1/rolebindings",
             "clusterroles": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
             "clusterrolebindings": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"}
    found = {kind: {(o["metadata"].get("namespace", ""), o["metadata"]["name"])
                    for o in request_json(api, "GET", path).get("items") or []} for kind, path in paths.items()}
    sessions = {o["metadata"]["name"] for o in request_json(
        api, "GET", "/api/v1/namespaces", query=[("labelSelector", "app.kubernetes.io/managed-by=podlab")])["items"]}
    sessions |= {o["metadata"]["name"] for o in request_json(
        api, "GET", "/api/v1/namespaces", query=[("labelSelector", f"app.kubernetes.io/managed-by=podlab-classroom,"
                                                                    f"podlab.dev/classroom!={course}")])["items"]}
    return {"sessions": sessions, **{kind: {f"{ns}/{name}" for ns, name in items} for kind, items in found.items()}}


def without_sessions(shot: dict[str, set[str]], sessions: set[str]) -> dict[str, set[str]]:
    """The snapshot less the lab sessions' namespaces and what is in them."""
    return {kind: {key for key in keys if not sessions & set(key.split("/", 1))}
            for kind, keys in shot.items() if kind != "sessions"}


@pytest.fixture(scope="module")
def course(live_cluster, tmp_path_factory):
    """A course of two students; deleted at the end, whatever happened."""
    name = "t-cls-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
    out = tmp_path_factory.mktemp("kubeconfigs")
    before = snapshot(live_cluster, name)
    students = []
    try:
        # Other tests' pods beside this one request CPU too: overcommit, so that the sizing (unit-tested)
        # does not refuse the course when the shared machine is busy.
        students = classroom.create(live_cluster, name, classroom.roster(name, students=2), out=out, labs=LABS,
                                    token_seconds=TOKEN_SECONDS, cpu_overcommit=8)
        yield {"name": name, "out": out, "before": before, "students": students}
    finally:
        classroom.delete(live_cluster, name, out=out)


def student_api(course, index: int):
    return connect(course["students"][index].kubeconfig)


def test_kubeconfigs_are_private_and_carry_a_token_of_the_requested_life(course):
    for student in course["students"]:
        assert oct(student.kubeconfig.stat().st_mode & 0o777) == "0o600"
        token = classroom.yaml.safe_load(student.kubeconfig.read_text())["users"][0]["user"]["token"]
        claims = classroom.token_claims(token)
        assert claims["exp"] - claims["iat"] == TOKEN_SECONDS
        assert claims["sub"] == f"system:serviceaccount:{student.namespace}:student"


def test_student_runs_a_pod_in_their_namespace_as_the_labs_do(course):
    api, ns = student_api(course, 0), course["students"][0].namespace
    apply(ns, pod("hello"), api=api)  # server-side apply, as Lab.apply
    running = wait_until(ns, "hello", ready, api=api)
    resources = running["spec"]["containers"][0]["resources"]  # the LimitRange's defaults
    assert resources == {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "500m", "memory": "64Mi"}}
    assert exec_in_pod(ns, "hello", "cat /etc/hostname", api=api).check().stdout.strip() == "hello"
    assert "started" in logs(ns, "hello", api=api)
    assert send_request(api, "DELETE", f"/api/v1/namespaces/{ns}/pods/hello").status == 200


def _refusals(course) -> list[tuple[str, str, str, dict | None]]:
    a, b = (s.namespace for s in course["students"])
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "me-admin"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
               "subjects": [{"kind": "ServiceAccount", "name": "student", "namespace": a}]}
    return [
        ("list pods in the other student's namespace", "GET", f"/api/v1/namespaces/{b}/pods", None),
        ("create a pod in the other student's namespace", "POST", f"/api/v1/namespaces/{b}/pods", pod("intruder")),
        ("list nodes", "GET", "/api/v1/nodes", None),
        ("list namespaces", "GET", "/api/v1/namespaces", None),
        ("list clusterroles", "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", None),
        ("create a RoleBinding in their own namespace", "POST",
         f"/apis/rbac.authorization.k8s.io/v1/namespaces/{a}/rolebindings", binding),
        ("list secrets in their own namespace", "GET", f"/api/v1/namespaces/{a}/secrets", None),
        ("delete the instructor's quota", "DELETE", f"/api/v1/namespaces/{a}/resourcequotas/podlab-student", None),
        ("delete their own namespace", "DELETE", f"/api/v1/namespaces/{a}", None),
        ("request a token for their ServiceAccount", "POST",
         f"/api/v1/namespaces/{a}/serviceaccounts/student/token",
         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}),
    ]


def test_student_is_refused_everywhere_else(course):
    api = student_api(course, 0)
    answers = {what: send_request(api, method, path, body=body) for what, method, path, body in _refusals(course)}
    for what, reply in answers.items():
        print(f"{what}: {reply.status} {reply.message[:160]}")
    assert {what: reply.status for what, reply in answers.items()} == {what: 403 for what in answers}
    assert all(" cannot " in reply.message for reply in answers.values())  # RBAC's refusal, not admission's


@pytest.mark.parametrize("name, spec, says", [
    ("privileged", {"container": {"securityContext": {"privileged": True}}}, 'privileged (container "app"'),
    ("host-path", {"volumes": [{"name": "node", "hostPath": {"path": "/var/lib/podlab-share"}}]},
     'hostPath volumes (volume "node")'),
    ("host-network", {"hostNetwork": True}, "host namespaces (hostNetwork=true)"),
])
def test_pod_security_baseline_refuses_host_access(course, name, spec, says):
    api, ns = student_api(course, 0), course["students"][0].namespace
    reply = send_request(api, "POST", f"/api/v1/namespaces/{ns}/pods", body=pod(name, **spec))
    print(reply.status, reply.message)
    assert reply.status == 403
    assert 'violates PodSecurity "baseline:latest"' in reply.message and says in reply.message


def _host_access(spec: dict) -> list[str]:
    """What in a pod spec Pod Security baseline forbids, as far as the labs go (host namespaces, hostPath, privileged)."""
    found = [f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    found += [f"hostPath volume {v['name']}" for v in spec.get("volumes") or [] if "hostPath" in v]
    found += [f"privileged container {c['name']}" for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
              if (c.get("securityContext") or {}).get("privileged")]
    return found


def _errors(message: str) -> list[str]:
    """A 422's field errors in a stable order: the API server lists several in no fixed order."""
    head, _, rest = message.partition(": [")
    return [head, *sorted(re.split(r", (?=spec\.)", rest.rstrip("]")))] if rest else [message]


def test_baseline_refuses_exactly_the_lab_manifests_that_reach_the_host(live_cluster, course):
    """Every lab pod (and pod template) sent as student A with a server-side dry run: the ones refused
    are the cells that need more than the namespace in classroom mode."""
    api, ns = student_api(course, 0), course["students"][0].namespace
    refused, expected = {}, {}
    for path, doc in classroom.lab_manifests(LABS):
        if doc.get("kind") not in ("Pod", "Deployment"):
            continue
        where = f"{path.parent.name}/{path.name}"
        if doc["kind"] == "Pod" and _host_access(doc["spec"]):
            expected[where] = _host_access(doc["spec"])  # (for a Deployment, baseline only warns: its pods are refused)
        plural, root = ("pods", "/api/v1") if doc["kind"] == "Pod" else ("deployments", "/apis/apps/v1")
        reply = send_request(api, "POST", f"{root}/namespaces/{ns}/{plural}", body=doc, query=[("dryRun", "All")])
        if reply.status == 403 and "violates PodSecurity" in reply.message:
            refused[where] = reply.message.split("violates PodSecurity", 1)[1][:200]
        elif reply.status != 201:  # a manifest the lab shows being refused: the instructor gets the same answer
            admin = send_request(live_cluster, "POST", f"{root}/namespaces/{ns}/{plural}", body=doc,
                                 query=[("dryRun", "All")])
            print(f"refused for the instructor too: {where}: {reply.status} {reply.message[:120]}")
            assert (reply.status, _errors(reply.message)) == (admin.status, _errors(admin.message)), where
    for where, why in sorted(refused.items()):
        print(f"refused under baseline: {where}: {why}")
    assert set(refused) == set(expected), expected


def test_token_requests_shorter_than_ten_minutes_are_refused(live_cluster, course):
    ns = course["students"][0].namespace
    reply = send_request(live_cluster, "POST", f"/api/v1/namespaces/{ns}/serviceaccounts/student/token",
                         body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                               "spec": {"expirationSeconds": classroom.MIN_TOKEN_SECONDS - 1}})
    print(reply.status, reply.message)
    assert reply.status == 422 and "may not specify a duration less than 10 minutes" in reply.message


def test_report_shows_each_student_after_progress_is_recorded(live_cluster, course, capsys, tmp_path):
    first = course["students"][0]
    api = student_api(course, 0)
    version = server_version(api)
    recorder = ConfigMapProgress(first.namespace, api, kubernetes_version=lambda: version)
    recorder.record(Check("labels file", FAILED, observed="pod not ready", source="exercise 01-labels-annotations-files"))
    recorder.record(Check("labels file", PASSED, source="exercise 01-labels-annotations-files"))
    recorder.record(Check("limits", FAILED, observed="<no limit>", source="exercise 01-limits-in-units"))
    recorder.record(Check("a claim, not an exercise", PASSED, source="expect_equal"))
    stored = request_json(api, "GET", f"/api/v1/namespaces/{first.namespace}/configmaps/{PROGRESS_CONFIGMAP}")
    assert sorted(stored["data"]) == ["01-labels-annotations-files", "01-limits-in-units"]
    csv_file, html_file = tmp_path / "report.csv", tmp_path / "report.html"
    capsys.readouterr()
    assert main(["classroom", "report", "--course", course["name"], "--csv", str(csv_file),
                 "--html", str(html_file)]) == 0
    table = capsys.readouterr().out
    print(table)
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.startswith("student-")}
    assert rows["student-01"][1].startswith("1/") and rows["student-01"][2:4] == ["1", "1/7"]
    assert rows["student-02"][1].startswith("0/") and rows["student-02"][2:4] == ["0", "0/7"]
    lines = csv_file.read_text().splitlines()
    assert "student-01,t-cls" in "\n".join(lines) and any(
        l.startswith(f"student-01,{first.namespace},01-labels-annotations-files,solved,passed,2,") for l in lines)
    assert any(l.startswith(f"student-01,{first.namespace},01-limits-in-units,tried,failed,1,") for l in lines)
    page = html_file.read_text()
    assert "&lt;no limit&gt;" in page and "<no limit>" not in page


def test_create_again_keeps_the_namespaces_and_issues_new_tokens(live_cluster, course):
    uids = {ns["metadata"]["name"]: ns["metadata"]["uid"] for ns in classroom.course_namespaces(live_cluster, course["name"])}
    old = {s.slug: s.kubeconfig.read_text() for s in course["students"]}
    again = classroom.create(live_cluster, course["name"], classroom.roster(course["name"], students=2),
                             out=course["out"], labs=LABS, token_seconds=TOKEN_SECONDS, cpu_overcommit=2)
    assert {ns["metadata"]["name"]: ns["metadata"]["uid"]
            for ns in classroom.course_namespaces(live_cluster, course["name"])} == uids
    assert all(s.kubeconfig.read_text() != old[s.slug] for s in again)
    assert send_request(connect(again[0].kubeconfig), "GET", f"/api/v1/namespaces/{again[0].namespace}/pods").status == 200


def test_create_leaves_a_namespace_it_did_not_make_alone(live_cluster, tmp_path):
    before = request_json(live_cluster, "GET", "/api/v1/namespaces/kube-system")["metadata"]
    roster_file = tmp_path / "roster.txt"
    roster_file.write_text("system\n")
    with pytest.raises(classroom.PodlabError, match="kube-system exists and was not made by `podlab classroom`"):
        classroom.create(live_cluster, "kube", classroom.roster("kube", roster_file=roster_file), out=tmp_path / "kc",
                         labs=LABS, cpu_overcommit=4)
    after = request_json(live_cluster, "GET", "/api/v1/namespaces/kube-system")["metadata"]
    assert after["resourceVersion"] == before["resourceVersion"]


def test_concurrent_recorders_lose_no_attempt(course):
    """Two notebooks of one student write the same ConfigMap: each write carries the resourceVersion
    it read, and a conflict (409) reads again, so no attempt is lost."""
    from concurrent.futures import ThreadPoolExecutor
    second = course["students"][1]
    api = student_api(course, 1)
    recorder = ConfigMapProgress(second.namespace, api)
    checks = [Check("c", PASSED if i % 2 else FAILED, source=f"exercise 02-ex{i % 4}") for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(recorder.record, checks))
    stored = request_json(api, "GET", f"/api/v1/namespaces/{second.namespace}/configmaps/{PROGRESS_CONFIGMAP}")
    records = {key: classprogress.parse_record(key, value) for key, value in stored["data"].items()}
    assert sorted(records) == [f"02-ex{i}" for i in range(4)]
    assert sum(r.attempts for r in records.values()) == 16
    request_json(api, "DELETE", f"/api/v1/namespaces/{second.namespace}/configmaps/{PROGRESS_CONFIGMAP}")


def test_a_token_of_a_deleted_and_recreated_service_account_is_refused(live_cluster, course):
    """The expired-token case without waiting ten minutes: the token names its ServiceAccount's uid,
    so a ServiceAccount of the same name made anew does not accept it (401), and a new token works."""
    second = course["students"][1]
    old = connect(second.kubeconfig)
    own_pods = f"/api/v1/namespaces/{second.namespace}/pods"
    assert send_request(old, "GET", own_pods).status == 200
    sa_path = f"/api/v1/namespaces/{second.namespace}/serviceaccounts"
    request_json(live_cluster, "DELETE", f"{sa_path}/student")
    request_json(live_cluster, "POST", sa_path, body=classroom.service_account_object(course["name"], second))
    # The API server looks the ServiceAccount up in its informer cache, which sees the new one a
    # moment later; nothing a client can watch tells when, so ask again (bounded) until refused.
    deadline, tries = time.monotonic() + 30, 0
    while True:
        tries += 1
        reply = send_request(old, "GET", own_pods)
        if reply.status != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2 * tries)
    print(f"after {tries} request(s): {reply.status} {reply.message}")
    assert reply.status == 401
    token, _ = classroom.request_token(live_cluster, second.namespace, classroom.MIN_TOKEN_SECONDS)
    fresh = course["out"] / "fresh.kubeconfig"
    text = second.kubeconfig.read_text()
    old_token = classroom.yaml.safe_load(text)["users"][0]["user"]["token"]
    fresh.write_text(text.replace(old_token, token))
    assert send_request(connect(fresh), "GET", own_pods).status == 200


def test_delete_leaves_the_cluster_as_it_was(live_cluster, course, capsys):
    assert main(["classroom", "delete", "--course", course["name"], "--out", str(course["out"])]) == 0
    print(capsys.readouterr().out)
    after = snapshot(live_cluster, course["name"])
    sessions = course["before"]["sessions"] | after["sessions"]
    before, now = without_sessions(course["before"], sessions), without_sessions(after, sessions)
    differences = {kind: {"added": sorted(now[kind] - before[kind]), "removed": sorted(before[kind] - now[kind])}
                   for kind in before if now[kind] != before[kind]}
    assert differences == {}
    assert not [s for s in course["students"] if s.kubeconfig.exists()]
    assert not classroom.course_namespaces(live_cluster, course["name"])
