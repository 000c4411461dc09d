"""Classroom mode's pure logic: quota arithmetic, the student Role's rules, the roster, kubeconfigs, the report."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from podlab.checks import FAILED, PASSED, Check
from podlab.classprogress import (CSV_HEADER, ExerciseRecord, StudentProgress, parse_record, report_csv,
                                  report_html, report_table, updated)
from podlab.classroom import (MI, STUDENT_RULES, Capacity, LabNeeds, Student, cluster_capacity, kubeconfig_text, lab_manifests,
                              lab_needs, namespace_object, plan_quota, pod_requests, quota_rule, role_rules, roster,
                              student_objects, token_claims)
from podlab.errors import PodlabError

LABS = Path(__file__).resolve().parents[2] / "labs"
GI = 1024 * MI
NODE = Capacity(cpu_m=2000, memory=24 * GI, pods=110, used_cpu_m=300, used_memory=1 * GI, used_pods=10,
                largest_node_cpu_m=2000)
NEEDS = LabNeeds(pod_cpu_m=500, pod_memory=64 * MI, limit_cpu_m=1250, limit_memory=64 * MI, pods=8,
                 largest="01-downward-api/ex3-limits.solution.yaml")


# -- quota arithmetic ---------------------------------------------------------------------------

def test_two_students_share_what_is_free():
    plan = plan_quota(NODE, NEEDS, 2)
    assert (plan.cpu_m, plan.memory, plan.pods) == (850, 23 * GI // 2 // MI * MI, 50)
    assert plan.fits == 3  # 1700m free / 500m for the largest lab pod
    assert plan.quota()["requests.cpu"] == "850m" and plan.quota()["pods"] == "50"
    assert plan.quota()["requests.memory"] == plan.quota()["limits.memory"] == f"{plan.memory // MI}Mi"
    assert "limits.cpu" not in plan.quota()
    assert plan.quota()["services.nodeports"] == "0"
    assert any("(allocatable 2000m - requested by running pods 300m) = 1700m to share; / 2 students = 850m" in line
               for line in plan.lines)


def test_too_many_students_are_refused_with_how_many_fit():
    with pytest.raises(PodlabError) as refused:
        plan_quota(NODE, NEEDS, 4)  # 425m each: less than the 500m pod
    assert "4 students do not fit" in refused.value.message and "CPU" in refused.value.message
    assert refused.value.hint.startswith("Make at most 3 students here")


def test_cpu_overcommit_shares_the_free_cpu_more_than_once():
    plan = plan_quota(NODE, NEEDS, 8, cpu_overcommit=3)  # 1700m x 3 = 5100m / 8 = 637m
    assert (plan.cpu_m, plan.fits) == (637, 10)
    assert plan.memory == 23 * GI // 8 // MI * MI  # memory is never overcommitted
    assert "x overcommit 3" in plan.lines[0]
    with pytest.raises(PodlabError):
        plan_quota(NODE, NEEDS, 2, cpu_overcommit=0.5)


def test_no_students_is_refused():
    with pytest.raises(PodlabError):
        plan_quota(NODE, NEEDS, 0)


def test_limit_range_defaults_stay_within_its_maximum():
    (limits,) = plan_quota(NODE, NEEDS, 2).limit_range()
    assert limits["max"] == {"cpu": "2000m", "memory": f"{23 * 1024 // 2}Mi"}
    assert limits["default"] == {"cpu": "500m", "memory": "64Mi"}
    assert limits["defaultRequest"] == {"cpu": "10m", "memory": "16Mi"}
    small = plan_quota(Capacity(1000, 2 * GI, 110, 0, 0, 0, 1000),
                       LabNeeds(10, 16 * MI, 100, 16 * MI, 4, "x"), 20)  # 50m, 102Mi and 5 pods each
    (limits,) = small.limit_range()
    assert limits["max"]["cpu"] == "1000m" and limits["default"]["memory"] == "64Mi"
    assert small.memory == 102 * MI


def test_pod_requests_default_to_limits_and_count_init_containers():
    spec = {"containers": [{"resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}},
                           {"resources": {"requests": {"cpu": "10m"}}}],
            "initContainers": [{"resources": {"requests": {"cpu": "1", "memory": "8Mi"}}}]}
    assert pod_requests(spec, default_cpu_m=5, default_memory=MI) == (1000, 65 * MI)


def test_lab_needs_come_from_the_labs_manifests():
    needs = lab_needs(LABS)
    doc = yaml.safe_load((LABS / needs.largest).read_text())
    assert (needs.pod_cpu_m, needs.pod_memory) == pod_requests(doc["spec"], default_cpu_m=10, default_memory=16 * MI)
    assert needs.pod_cpu_m >= 500  # lab 1's limits exercise: a 500m limit, so a 500m request
    assert needs.limit_cpu_m >= 1250  # lab 1's prediction pod's 1250m limit must pass the LimitRange max


def test_lab_needs_leave_out_pods_made_for_fake_nodes(tmp_path):
    lab = tmp_path / "07-x"
    lab.mkdir()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "3", "memory": "6Gi"}}}]}}
    (lab / "small.yaml").write_text(yaml.safe_dump({**pod, "spec": {"containers": [
        {"name": "c", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}))
    (lab / "for-fake-node.yaml").write_text(yaml.safe_dump({**pod, "spec": {**pod["spec"], "tolerations": [
        {"key": "podlab.dev/fake-node", "operator": "Equal", "effect": "NoSchedule"}]}}))
    assert lab_needs(tmp_path).largest == "07-x/small.yaml"
    (lab / "for-real-node.yaml").write_text(yaml.safe_dump(pod))
    assert lab_needs(tmp_path).largest == "07-x/for-real-node.yaml"


# -- the student's Role -------------------------------------------------------------------------

def _granted(labs: Path | None = LABS) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role_rules(labs):
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                key = (group, resource) if "resourceNames" not in rule else (group, resource + " (by name)")
                granted.setdefault(key, set()).update(rule["verbs"])
    return granted


def test_role_grants_nothing_broad_or_dangerous():
    granted = _granted()
    assert all("*" not in verbs and resource != "*" and group != "*" for (group, resource), verbs in granted.items())
    forbidden = {"secrets", "roles", "rolebindings", "serviceaccounts", "serviceaccounts/token", "pods/attach",
                 "pods/portforward", "pods/ephemeralcontainers", "namespaces", "nodes", "persistentvolumeclaims",
                 "tokenreviews", "jobs", "daemonsets", "statefulsets", "replicationcontrollers"}
    assert not forbidden & {resource for _, resource in granted}
    assert not {"escalate", "bind", "impersonate"} & set().union(*granted.values())
    assert all(rule.reason for rule in STUDENT_RULES)


def test_the_instructors_quota_objects_cannot_be_changed_or_deleted():
    for rule in role_rules(LABS):
        if {"resourcequotas", "limitranges"} & set(rule["resources"]):
            changes = {"patch", "update", "delete", "deletecollection"} & set(rule["verbs"])
            assert not changes or (rule.get("resourceNames") and "podlab-student" not in rule["resourceNames"]), rule


PLURAL = {"Pod": ("", "pods"), "Service": ("", "services"), "ConfigMap": ("", "configmaps"),
          "Deployment": ("apps", "deployments"), "ResourceQuota": ("", "resourcequotas (by name)"),
          "LimitRange": ("", "limitranges (by name)")}


# Cluster-scoped kinds a lab's files hold (lab 7's KWOK fake nodes): a namespaced Role can never grant
# them; the cells and checks that apply them carry `needs-cluster` and classroom mode skips them.
CLUSTER_SCOPED = {"Node"}


def test_role_covers_every_kind_the_labs_apply():
    kinds = {doc["kind"] for _, doc in lab_manifests(LABS) if "kind" in doc} - CLUSTER_SCOPED
    assert kinds <= set(PLURAL), f"a lab applies {sorted(kinds - set(PLURAL))}: add it to STUDENT_RULES"
    granted = _granted()
    for kind in kinds:
        needed = {"patch", "delete"} if "by name" in PLURAL[kind][1] else {"get", "list", "watch", "create", "patch", "delete"}
        assert needed <= granted[PLURAL[kind]], kind
    assert {"get", "create"} <= granted[("", "pods/exec")]
    assert "get" in granted[("", "pods/log")]
    assert {"list", "watch"} <= granted[("", "events")] and {"list", "watch"} <= granted[("discovery.k8s.io", "endpointslices")]
    assert "update" in granted[("", "configmaps")]  # the progress recorder


def test_quota_objects_are_granted_by_the_names_the_labs_use(tmp_path):
    (tmp_path / "09-x").mkdir()
    (tmp_path / "09-x" / "q.yaml").write_text("kind: ResourceQuota\nmetadata: {name: budget}\n---\n"
                                              "kind: LimitRange\nmetadata: {name: podlab-student}\n")
    rule = quota_rule(tmp_path)
    assert rule is not None and rule.names == ("budget",) and rule.verbs == ("patch", "delete")
    (tmp_path / "09-x" / "q.yaml").write_text("kind: Pod\nmetadata: {name: p}\n")
    assert quota_rule(tmp_path) is None


# -- roster, objects, kubeconfig ------------------------------------------------------------------

def test_roster_numbers_students_or_reads_a_file(tmp_path):
    assert [s.namespace for s in roster("k8s-101", students=2)] == ["k8s-101-student-01", "k8s-101-student-02"]
    file = tmp_path / "roster.txt"
    file.write_text("Ada Lovelace\n\n# a comment\nGrace Hopper  # the admiral\n")
    students = roster("k8s-101", roster_file=file)
    assert [(s.name, s.namespace) for s in students] == [("Ada Lovelace", "k8s-101-ada-lovelace"),
                                                         ("Grace Hopper", "k8s-101-grace-hopper")]


@pytest.mark.parametrize("course, kwargs", [
    ("K8s 101", {"students": 1}), ("k8s", {}), ("k8s", {"students": 1, "roster_file": Path("x")})])
def test_roster_refuses_bad_input(course, kwargs):
    with pytest.raises(PodlabError):
        roster(course, **kwargs)


def test_roster_refuses_names_that_collide(tmp_path):
    file = tmp_path / "roster.txt"
    file.write_text("Ada Lovelace\nada-lovelace\n")
    with pytest.raises(PodlabError, match="would share the namespace k8s-ada-lovelace"):
        roster("k8s", roster_file=file)


def test_every_object_is_labelled_for_the_course_and_the_namespace_enforces_baseline():
    student = Student("Ada", "ada", "c1-ada")
    plan = plan_quota(NODE, NEEDS, 1)
    ns = namespace_object("c1", student)
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    for obj in [ns, *student_objects("c1", student, plan)]:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "podlab-classroom"
        assert labels["podlab.dev/classroom"] == "c1" and labels["podlab.dev/student"] == "ada"
    binding = next(o for o in student_objects("c1", student, plan) if o["kind"] == "RoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "student", "namespace": "c1-ada"}]


def test_kubeconfig_names_the_students_namespace_and_token():
    text = kubeconfig_text("c1", Student("Ada", "ada", "c1-ada"), server="https://10.0.0.1:6443",
                           ca_pem="PEM", token="t0ken")
    config = yaml.safe_load(text)
    context = config["contexts"][0]
    assert config["current-context"] == context["name"]
    assert context["context"]["namespace"] == "c1-ada"
    assert config["users"][0]["user"] == {"token": "t0ken"}
    assert base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]) == b"PEM"


def test_token_claims_decodes_the_payload():
    payload = base64.urlsafe_b64encode(json.dumps({"exp": 1700000600, "iat": 1700000000}).encode()).decode().rstrip("=")
    assert token_claims(f"e30.{payload}.sig") == {"exp": 1700000600, "iat": 1700000000}


# -- progress records and the report ----------------------------------------------------------------

def test_a_solved_exercise_stays_solved_after_a_later_failure():
    first = updated(None, Check("c", PASSED, source="exercise 01-a", at=100.0), "v1.37.2")
    second = updated(first, Check("c", FAILED, observed="pod not ready", source="exercise 01-a", at=200.0), "v1.37.2")
    assert (second.outcome, second.attempts, second.solved_at, second.error, second.at) == (
        FAILED, 2, 100.0, "pod not ready", 200.0)
    assert parse_record("01-a", json.dumps(second.__dict__)) == second


def test_a_value_that_is_not_a_record_names_its_key():
    with pytest.raises(ValueError, match="key '01-a'"):
        parse_record("01-a", "not json")


def _rows() -> list[StudentProgress]:
    return [StudentProgress("Ada <script>", "c1-ada", {
                "01-a": ExerciseRecord("01-a", PASSED, 1700000000.0, "v1.37.2", solved_at=1700000000.0),
                "01-b": ExerciseRecord("01-b", FAILED, 1700000100.0, "v1.37.2", error="<b>no</b>\nmore")}),
            StudentProgress("Grace", "c1-grace")]


EXERCISES = {"01-downward-api": ["01-a", "01-b"], "02-pod-basics": ["02-a"]}


def test_report_table_counts_per_student_and_lab():
    lines = report_table(_rows(), EXERCISES).splitlines()
    assert lines[0].split() == ["student", "solved", "tried", "01", "02", "last", "check"]
    assert lines[2].split()[:6] == ["Ada", "<script>", "1/3", "1", "1/2", "0/1"]
    assert lines[2].endswith("2023-11-14 22:15:00 UTC")
    assert lines[3].split() == ["Grace", "0/3", "0", "0/2", "0/1", "-"]


def test_report_csv_has_a_line_per_student_and_exercise():
    rows = list(csv.reader(io.StringIO(report_csv(_rows(), EXERCISES))))
    assert rows[0] == CSV_HEADER and len(rows) == 1 + 2 * 3
    assert rows[1][:6] == ["Ada <script>", "c1-ada", "01-a", "solved", PASSED, "1"]
    assert rows[2][3] == "tried" and rows[2][-1] == "<b>no</b>\nmore"
    assert rows[4][2:4] == ["01-a", "not tried"]


def test_report_html_escapes_what_students_and_errors_contain():
    page = report_html(_rows(), EXERCISES, course="c1 & co")
    assert "<script>" not in page and "Ada &lt;script&gt;" in page
    assert "<b>" not in page and 'title="tried: &lt;b&gt;no&lt;/b&gt;"' in page
    assert "Course c1 &amp; co" in page and page.count("<tr><th>") == 3  # the header and two students


def test_capacity_counts_only_nodes_that_take_students_pods(monkeypatch):
    def node(name, cpu, memory, spec=None):
        return {"metadata": {"name": name}, "spec": spec or {},
                "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"}}}

    def pod(node_name, cpu=None):
        resources = {"requests": {"cpu": cpu, "memory": "100Mi"}} if cpu else {}
        return {"spec": {"nodeName": node_name, "containers": [{"resources": resources}]}}

    replies = {
        "/api/v1/nodes": {"items": [
            node("real", "2", "24Gi"), node("spare", "1500m", "1Gi"),
            node("fake", "32", "256Gi", {"taints": [{"key": "podlab.dev/fake-node", "effect": "NoSchedule"}]}),
            node("cordoned", "4", "8Gi", {"unschedulable": True})]},
        "/api/v1/pods": {"items": [pod("real", "250m"), pod("real"), pod("fake", "1"), pod(None, "1")]},
    }
    monkeypatch.setattr("podlab.classroom.request_json", lambda api, method, path, **kw: replies[path])
    assert cluster_capacity(None) == Capacity(cpu_m=3500, memory=25 * GI, pods=220, used_cpu_m=250,
                                              used_memory=100 * MI, used_pods=2, largest_node_cpu_m=2000)


@pytest.mark.parametrize("argv, says", [
    (["--course", "Bad Name", "--students", "2"], "'Bad Name' cannot name a course."),
    (["--course", "c1", "--students", "2", "--token-seconds", "599"], "TokenRequest gives none shorter than 600 s"),
    (["--course", "c1", "--roster", "/nonexistent/roster.txt"], "Cannot read the roster /nonexistent/roster.txt"),
])
def test_create_refuses_bad_input_before_asking_the_cluster(argv, says, capsys, monkeypatch):
    from podlab.cli import main
    monkeypatch.setattr("podlab.classroom._admin_api", lambda args: pytest.fail("the cluster was asked"))
    assert main(["classroom", "create", *argv]) == 2
    assert says in capsys.readouterr().err


def test_recorder_reads_again_after_a_conflict_and_skips_checks_that_are_not_exercises(monkeypatch):
    from kubernetes.client.exceptions import ApiException

    from podlab import classprogress
    stored = {"metadata": {"resourceVersion": "1"}, "data": {}}
    calls = []

    def fake(api, method, path, body=None, **kw):
        calls.append(method)
        if method == "GET":
            return stored
        if method == "PUT" and calls.count("PUT") == 1:
            stored["metadata"] = {"resourceVersion": "2"}  # another notebook wrote meanwhile
            raise ApiException(status=409, reason="Conflict")
        assert body["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
        stored["data"] = body["data"]
        return body

    monkeypatch.setattr(classprogress, "request_json", fake)
    monkeypatch.setattr(classprogress.time, "sleep", lambda seconds: None)
    recorder = classprogress.ConfigMapProgress("c1-ada", None, kubernetes_version=lambda: "v1.37.2")
    recorder.record(Check("a claim", PASSED, source="expect_equal"))
    assert calls == []
    recorder.record(Check("labels", PASSED, source="exercise 01-a", at=5.0))
    assert calls == ["GET", "PUT", "GET", "PUT"]
    assert parse_record("01-a", stored["data"]["01-a"]) == ExerciseRecord("01-a", PASSED, 5.0, "v1.37.2", solved_at=5.0)
