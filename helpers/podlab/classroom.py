"""Classroom mode, the instructor's side: a namespace per student, confined by RBAC, quota and Pod Security.

`podlab classroom create --course NAME --students N` (or `--roster FILE`) makes, for each student,
with the instructor's (admin) rights:

- a namespace `<course>-<student>` labelled as made by `podlab classroom` for that course, with
  Pod Security admission at `baseline` (enforce, warn, audit);
- a ServiceAccount `student`, a Role `podlab-student` with the rules in STUDENT_RULES (what the
  labs call, nothing more) and a RoleBinding of the one to the other;
- a ResourceQuota and a LimitRange from plan_quota(): the nodes' allocatable resources, less what
  running pods already request, shared by the N students (the arithmetic is printed);
- a kubeconfig file whose token comes from the TokenRequest API and expires, its context marked
  `podlab.dev/classroom` so that lab sessions opened with it work in that namespace (podlab.classmode).

`delete` deletes the namespaces by label (their objects go with them) and the kubeconfig files
`create` wrote; nothing else. The label's value is `podlab-classroom`, not the lab sessions'
`podlab`, so `podlab clean` never takes a student's namespace and `delete` never takes a lab's.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import api_error, request_json
from .classmode import marker_extension
from .classprogress import STUDENT_NAME
from .conditions import deleted, exists
from .errors import PodlabError
from .fakenodes import TAINT_KEY
from .quantities import parse_quantity
from .waiting import wait_until

MANAGED_BY = "app.kubernetes.io/managed-by"
MADE_BY = "podlab-classroom"
COURSE_LABEL = "podlab.dev/classroom"
STUDENT_LABEL = "podlab.dev/student"
SERVICE_ACCOUNT = "student"
ROLE = "podlab-student"
PSA_LEVEL = "baseline"
FIELD_MANAGER = "podlab-classroom"
DEFAULT_TOKEN_SECONDS = 8 * 3600  # a working day
MIN_TOKEN_SECONDS = 600           # TokenRequest refuses less ("may not specify a duration less than 10 minutes")

_LABEL_VALUE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MI = 1024 * 1024


# -- what a student may do ----------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One RBAC rule of the student's Role, with why the labs need it."""

    group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    reason: str
    names: tuple[str, ...] = ()  # resourceNames: only these objects

    def as_policy_rule(self) -> dict[str, Any]:
        """The rule as a Role's rules[] entry."""
        rule: dict[str, Any] = {"apiGroups": [self.group], "resources": list(self.resources), "verbs": list(self.verbs)}
        if self.names:
            rule["resourceNames"] = list(self.names)
        return rule


_READ = ("get", "list", "watch")
STUDENT_RULES: tuple[Rule, ...] = (
    Rule("", ("pods",), _READ + ("create", "patch", "delete", "deletecollection"),
         "every lab applies pods (server-side apply: patch, and create when the pod is new), waits on "
         "them (list+watch), reads them (get) and deletes them (Lab.delete; a session's close deletes "
         "its objects by label: deletecollection)"),
    Rule("", ("pods/log",), ("get",),
         "Lab.logs, Lab.wait_for_log (labs 2-4) and read_node_file's reader pod read container logs"),
    Rule("", ("pods/exec",), ("get", "create"),
         "Lab.exec, read_file, env, processes, exec_until (labs 1-3, 5): exec over WebSocket is a GET, and "
         "since 1.35 the API server also asks for create on it (AuthorizePodWebsocketUpgradeCreatePermission, "
         "beta, on); on 1.37.2 either verb alone was refused at the handshake (403)"),
    Rule("", ("services",), _READ + ("create", "patch", "delete", "deletecollection"),
         "labs 1, 4 and 5 apply Services (Service variables, DNS names, a readiness-gated Service)"),
    Rule("", ("configmaps",), _READ + ("create", "patch", "update", "delete", "deletecollection"),
         "lab 3 applies ConfigMaps; the progress recorder keeps the student's Checks in the ConfigMap "
         "podlab-progress (read, then update with the resourceVersion read)"),
    Rule("", ("events",), _READ,
         "Lab.events, Lab.wait_for_event and timelines read the kubelet's events (labs 2-5)"),
    Rule("discovery.k8s.io", ("endpointslices",), _READ,
         "lab 5's readiness exercise waits on the Service's EndpointSlices"),
    Rule("apps", ("deployments",), _READ + ("create", "patch", "delete", "deletecollection"),
         "lab 6 applies Deployments, waits until they are available and rolls them out"),
    Rule("apps", ("replicasets",), _READ,
         "lab 6 waits on a Deployment's ReplicaSet (its ReplicaFailure condition under a quota)"),
    Rule("", ("resourcequotas", "limitranges"), _READ + ("create",),
         "lab 6 applies a LimitRange and a ResourceQuota of its own and reads the quota's usage; one more "
         "quota or LimitRange only narrows what the instructor's allow"),
)
# Changing or deleting a quota or LimitRange is granted only by name, for those the labs apply
# (quota_rule(labs)): never for the instructor's `podlab-student` objects.
# Deliberately absent: secrets (no lab reads or makes one), pods/attach (only book chapter 2 calls
# Lab.attach), pods/portforward, pods/ephemeralcontainers, Jobs, StatefulSets, DaemonSets and
# ReplicationControllers (the book's chapters use them, no lab does), serviceaccounts and
# serviceaccounts/token, roles and rolebindings (a student who can bind can grant themselves more),
# and every cluster-scoped resource (namespaces, nodes, tokenreviews: such cells say so and skip).


def lab_manifests(labs: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every object in the labs' manifest files (labs/*/*.yaml), with its file."""
    found = []
    for path in sorted(labs.glob("*/*.yaml")):
        found += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict)]
    return found


def quota_rule(labs: Path) -> Rule | None:
    """patch and delete of the ResourceQuotas and LimitRanges the labs apply, by name (None if they apply none)."""
    names = sorted({doc["metadata"]["name"] for _, doc in lab_manifests(labs)
                    if doc.get("kind") in ("ResourceQuota", "LimitRange")} - {ROLE})
    if not names:
        return None
    return Rule("", ("resourcequotas", "limitranges"), ("patch", "delete"),
                "the lab applies (server-side apply: patch) and deletes its own quota objects, by name", tuple(names))


def role_rules(labs: Path | None = None) -> list[dict[str, Any]]:
    """The student Role's rules as the API takes them (with the labs' own quota objects, given the labs folder)."""
    extra = quota_rule(labs) if labs is not None else None
    return [rule.as_policy_rule() for rule in (*STUDENT_RULES, *([extra] if extra else []))]


# -- how much each student gets ------------------------------------------------------------------

@dataclass(frozen=True)
class Capacity:
    """What the cluster's nodes offer and what running pods already take (cpu in millicores, memory in bytes)."""

    cpu_m: int
    memory: int
    pods: int
    used_cpu_m: int
    used_memory: int
    used_pods: int
    largest_node_cpu_m: int


@dataclass(frozen=True)
class LabNeeds:
    """The most one lab pod asks for (requests, and limits), and how many pods a student may need at once."""

    pod_cpu_m: int
    pod_memory: int
    limit_cpu_m: int
    limit_memory: int
    pods: int
    largest: str  # which manifest asks for the most


@dataclass
class QuotaPlan:
    """Per-student ResourceQuota and LimitRange values, and the arithmetic that gave them."""

    students: int
    cpu_m: int
    memory: int
    pods: int
    limits_cpu_m: int
    limits_memory: int
    fits: int
    lines: list[str] = field(default_factory=list)

    def quota(self) -> dict[str, str]:
        """The ResourceQuota's spec.hard."""
        return {"requests.cpu": f"{self.cpu_m}m", "requests.memory": f"{self.memory // MI}Mi",
                "limits.memory": f"{self.limits_memory // MI}Mi",
                "pods": str(self.pods), "services": "10", "configmaps": "20",
                "services.nodeports": "0", "services.loadbalancers": "0",
                "persistentvolumeclaims": "0"}

    def limit_range(self) -> list[dict[str, Any]]:
        """The LimitRange's spec.limits: defaults for containers that set nothing, and per-container maxima."""
        max_cpu, max_memory = self.limits_cpu_m, self.limits_memory
        default_cpu, default_memory = min(500, max_cpu), min(64 * MI, max_memory)
        request_cpu, request_memory = min(10, default_cpu), min(16 * MI, default_memory)
        return [{"type": "Container",
                 "default": {"cpu": f"{default_cpu}m", "memory": f"{default_memory // MI}Mi"},
                 "defaultRequest": {"cpu": f"{request_cpu}m", "memory": f"{request_memory // MI}Mi"},
                 "max": {"cpu": f"{max_cpu}m", "memory": f"{max_memory // MI}Mi"}}]


def plan_quota(capacity: Capacity, needs: LabNeeds, students: int, *, cpu_overcommit: float = 1.0) -> QuotaPlan:
    """Share what is free on the nodes among the students; raise PodlabError if one student's share cannot run the labs.

    Requests (what the scheduler reserves) are shared without overcommit by default: the students'
    requests together never exceed what is free. cpu_overcommit > 1 shares that many times the free
    CPU (students rarely run their largest pod at once; when they do, the scheduler leaves the
    later pods Pending with "Insufficient cpu"). Memory requests are never overcommitted. Memory limits are not overcommitted either (a node short
    of memory kills). CPU limits are left out of the quota: CPU is throttled, not killed, so a
    container may burst to one node's CPU (the LimitRange's max).
    """
    if students < 1:
        raise PodlabError(f"{students} students: nothing to make.", hint="Pass --students N with N >= 1.")
    if cpu_overcommit < 1:
        raise PodlabError(f"CPU overcommit {cpu_overcommit}: less than 1 would leave CPU unused.",
                          hint="Pass --cpu-overcommit 1 (none, the default) or more.")
    free_cpu = int((capacity.cpu_m - capacity.used_cpu_m) * cpu_overcommit)
    over = f" x overcommit {cpu_overcommit:g}" if cpu_overcommit != 1 else ""
    free_memory = capacity.memory - capacity.used_memory
    free_pods = capacity.pods - capacity.used_pods
    cpu, memory, pods = free_cpu // students, (free_memory // students) // MI * MI, free_pods // students
    fits = min(free_cpu // max(needs.pod_cpu_m, 1), free_memory // max(needs.pod_memory, 1),
               free_pods // max(needs.pods, 1))
    lines = [
        f"cpu:    (allocatable {capacity.cpu_m}m - requested by running pods {capacity.used_cpu_m}m){over} "
        f"= {free_cpu}m to share; / {students} students = {cpu}m requests.cpu each",
        f"memory: allocatable {capacity.memory // MI}Mi - requested {capacity.used_memory // MI}Mi "
        f"= {free_memory // MI}Mi free; / {students} = {memory // MI}Mi requests.memory and limits.memory each",
        f"pods:   allocatable {capacity.pods} - running {capacity.used_pods} = {free_pods} free; "
        f"/ {students} = {pods} pods each",
        f"cpu limits: not in the quota (CPU is throttled, not killed); at most "
        f"{max(capacity.largest_node_cpu_m, needs.limit_cpu_m)}m per container (one node's CPU)",
        f"the labs' largest pod ({needs.largest}) requests {needs.pod_cpu_m}m CPU and "
        f"{needs.pod_memory // MI}Mi; a student needs up to {needs.pods} pods at once: "
        f"at most {fits} student{'s' if fits != 1 else ''} fit{'s' if fits == 1 else ''}",
    ]
    plan = QuotaPlan(students, cpu, memory, pods, max(capacity.largest_node_cpu_m, needs.limit_cpu_m),
                     memory, fits, lines)
    short = [what for what, have, need in (("CPU", cpu, needs.pod_cpu_m), ("memory", memory, needs.pod_memory),
                                           ("pods", pods, needs.pods),
                                           ("memory limit", memory, needs.limit_memory)) if have < need]
    if short:
        raise PodlabError("\n".join(lines) + f"\n{students} students do not fit: each would get too little "
                          f"{' and '.join(short)}.",
                          hint=f"Make at most {fits} student{'s' if fits != 1 else ''} here, add nodes, or share the CPU more than once "
                               "(--cpu-overcommit F).")
    return plan


def cluster_capacity(api: client.ApiClient) -> Capacity:
    """The allocatable resources of the nodes students' pods can land on, and what non-terminated pods there request now.

    A node that is cordoned or tainted NoSchedule/NoExecute (a fake node, a control-plane node
    that keeps its taint) takes no student pod: students' pods tolerate no taint.
    """
    nodes = request_json(api, "GET", "/api/v1/nodes").get("items") or []
    schedulable = [n for n in nodes if not (n.get("spec") or {}).get("unschedulable")
                   and not any(t.get("effect") in ("NoSchedule", "NoExecute")
                               for t in (n.get("spec") or {}).get("taints") or [])]
    if not schedulable:
        raise PodlabError("The cluster has no node that takes pods without tolerations.",
                          hint="`kubectl get nodes` and `kubectl describe node` show cordons and taints.")
    names = {n["metadata"]["name"] for n in schedulable}
    cpu = [_milli(n["status"]["allocatable"].get("cpu", "0")) for n in schedulable]
    memory = sum(int(parse_quantity(n["status"]["allocatable"].get("memory", "0"))) for n in schedulable)
    pods = sum(int(n["status"]["allocatable"].get("pods", "0")) for n in schedulable)
    listing = request_json(api, "GET", "/api/v1/pods",
                           query=[("fieldSelector", "status.phase!=Succeeded,status.phase!=Failed")])
    used_cpu = used_memory = used_pods = 0
    for pod in listing.get("items") or []:
        if (pod.get("spec") or {}).get("nodeName") not in names:
            continue
        request = pod_requests(pod["spec"])
        used_cpu, used_memory, used_pods = used_cpu + request[0], used_memory + request[1], used_pods + 1
    return Capacity(sum(cpu), memory, pods, used_cpu, used_memory, used_pods, max(cpu))


def _milli(quantity: str | int) -> int:
    return int(parse_quantity(quantity) * 1000)


def pod_requests(spec: dict[str, Any], *, default_cpu_m: int = 0, default_memory: int = 0) -> tuple[int, int]:
    """A pod's effective (cpu millicores, memory bytes) request, as the scheduler counts it.

    The larger of the app containers' sum and any init container's; a request left unset
    defaults to its limit, else to the given default (a LimitRange's defaultRequest).
    """
    def one(container: dict[str, Any]) -> tuple[int, int]:
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        cpu = requests.get("cpu", limits.get("cpu"))
        memory = requests.get("memory", limits.get("memory"))
        return (_milli(cpu) if cpu is not None else default_cpu_m,
                int(parse_quantity(memory)) if memory is not None else default_memory)

    apps = [one(c) for c in spec.get("containers") or []]
    inits = [one(c) for c in spec.get("initContainers") or []]
    cpu, memory = sum(c for c, _ in apps), sum(m for _, m in apps)
    for init_cpu, init_memory in inits:
        cpu, memory = max(cpu, init_cpu), max(memory, init_memory)
    return cpu, memory


def pod_limits(spec: dict[str, Any]) -> tuple[int, int]:
    """The largest cpu (millicores) and memory (bytes) limit any one container of the pod sets."""
    cpu = memory = 0
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        limits = (container.get("resources") or {}).get("limits") or {}
        cpu = max(cpu, _milli(limits["cpu"]) if "cpu" in limits else 0)
        memory = max(memory, int(parse_quantity(limits["memory"])) if "memory" in limits else 0)
    return cpu, memory


LAB_PODS_AT_ONCE = 8  # an estimate of the most pods one lab keeps at once (not measured per lab)


def lab_needs(labs: Path, *, default_cpu_m: int = 10, default_memory: int = 16 * MI) -> LabNeeds:
    """The largest pod request and limit among the labs' manifests (labs/*/*.yaml), fake nodes' pods left out."""
    best = (0, 0, "no manifest")
    limit_cpu = limit_memory = 0
    for path, doc in lab_manifests(labs):
        if doc.get("kind") == "Pod":
            spec = doc.get("spec") or {}
        elif doc.get("kind") in ("Deployment", "ReplicaSet", "ReplicationController", "Job", "StatefulSet"):
            spec = (((doc.get("spec") or {}).get("template") or {}).get("spec")) or {}
        else:
            continue
        if any(t.get("key") == TAINT_KEY for t in spec.get("tolerations") or []):
            continue   # made for a fake node, which only a cluster admin can add: never on the students' nodes
        cpu, memory = pod_requests(spec, default_cpu_m=default_cpu_m, default_memory=default_memory)
        if (cpu, memory) > best[:2]:
            best = (cpu, memory, f"{path.parent.name}/{path.name}")
        lcpu, lmemory = pod_limits(spec)
        limit_cpu, limit_memory = max(limit_cpu, lcpu), max(limit_memory, lmemory)
    return LabNeeds(best[0], best[1], limit_cpu, limit_memory, LAB_PODS_AT_ONCE, best[2])


# -- students -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Student:
    """One student: their name as given, and the namespace made for them."""

    name: str
    slug: str
    namespace: str
    kubeconfig: Path | None = None
    expires: str = ""


def check_course(course: str) -> str:
    """The course name if it can prefix namespaces and be a label value; else PodlabError."""
    if not _LABEL_VALUE.match(course) or len(course) > 30:
        raise PodlabError(f"{course!r} cannot name a course.",
                          hint="Use lowercase letters, digits and '-', at most 30 characters (e.g. 'k8s-spring').")
    return course


def roster(course: str, *, students: int | None = None, roster_file: Path | None = None) -> list[Student]:
    """The students: student-01..N, or one per non-empty line of the roster file (# starts a comment)."""
    check_course(course)
    if (students is None) == (roster_file is None):
        raise PodlabError("Say who the students are.", hint="Pass either --students N or --roster FILE.")
    if roster_file is not None:
        try:
            text = roster_file.read_text(encoding="utf-8")
        except OSError as e:
            raise PodlabError(f"Cannot read the roster {roster_file}: {e.strerror}.",
                              hint="Pass a text file with one student name per line.") from None
        names = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        names = [n for n in names if n]
    else:
        width = max(2, len(str(students)))
        names = [f"student-{i:0{width}d}" for i in range(1, (students or 0) + 1)]
    if not names:
        raise PodlabError("The roster names no student.", hint="Put one student name per line.")
    result: list[Student] = []
    seen: dict[str, str] = {}
    for name in names:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        namespace = f"{course}-{slug}"
        if not slug or len(namespace) > 63:
            raise PodlabError(f"The student name {name!r} cannot make a namespace ({namespace!r}).",
                              hint="Use a shorter name with letters or digits, or a shorter course name.")
        if slug in seen:
            raise PodlabError(f"{seen[slug]!r} and {name!r} would share the namespace {namespace}.",
                              hint="Make the names differ in their letters or digits.")
        seen[slug] = name
        result.append(Student(name, slug, namespace))
    return result


def _labels(course: str, student: Student | None = None) -> dict[str, str]:
    labels = {MANAGED_BY: MADE_BY, COURSE_LABEL: course}
    if student is not None:
        labels[STUDENT_LABEL] = student.slug
    return labels


def course_selector(course: str) -> str:
    """The label selector of everything `create` made for the course."""
    return f"{MANAGED_BY}={MADE_BY},{COURSE_LABEL}={check_course(course)}"


def student_objects(course: str, student: Student, plan: QuotaPlan, labs: Path | None = None) -> list[dict[str, Any]]:
    """The namespaced objects of one student (the namespace itself is made first)."""
    meta = {"namespace": student.namespace, "labels": _labels(course, student)}
    return [
        service_account_object(course, student),
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": ROLE, **meta},
         "rules": role_rules(labs)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": ROLE, **meta},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE},
         "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": student.namespace}]},
        {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": ROLE, **meta},
         "spec": {"hard": plan.quota()}},
        {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": ROLE, **meta},
         "spec": {"limits": plan.limit_range()}},
    ]


def service_account_object(course: str, student: Student) -> dict[str, Any]:
    """The student's ServiceAccount (its tokens are the student's credentials; pods never mount them)."""
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": SERVICE_ACCOUNT, "namespace": student.namespace, "labels": _labels(course, student)},
            "automountServiceAccountToken": False}


def namespace_object(course: str, student: Student) -> dict[str, Any]:
    """The student's namespace: labelled for the course, Pod Security at baseline."""
    psa = {f"pod-security.kubernetes.io/{mode}": PSA_LEVEL for mode in ("enforce", "warn", "audit")}
    psa.update({f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "warn", "audit")})
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": student.namespace, "labels": {**_labels(course, student), **psa},
                         "annotations": {STUDENT_NAME: student.name}}}


_PATHS = {"ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
          "ResourceQuota": "/api/v1/namespaces/{ns}/resourcequotas",
          "LimitRange": "/api/v1/namespaces/{ns}/limitranges",
          "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
          "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings"}


def _apply(api: client.ApiClient, path: str, obj: dict[str, Any]) -> dict[str, Any]:
    try:
        return request_json(api, "PATCH", f"{path}/{obj['metadata']['name']}", body=obj,
                            content_type="application/apply-patch+yaml",
                            query=[("fieldManager", FIELD_MANAGER), ("force", "true")])
    except ApiException as e:
        raise api_error(e, f"applying {obj['kind'].lower()}/{obj['metadata']['name']}") from None


def _claim_namespace(api: client.ApiClient, course: str, student: Student) -> None:
    """Apply the namespace, refusing one that exists and was not made for this course."""
    try:
        found = request_json(api, "GET", f"/api/v1/namespaces/{student.namespace}")
    except ApiException as e:
        if e.status != 404:
            raise api_error(e, f"reading namespace {student.namespace}") from None
    else:
        labels = found["metadata"].get("labels") or {}
        if labels.get(MANAGED_BY) != MADE_BY or labels.get(COURSE_LABEL) != course:
            raise PodlabError(f"The namespace {student.namespace} exists and was not made by `podlab classroom` "
                              f"for course {course}; it is left alone.",
                              hint="Pick another course name (--course), or rename the student.")
        if (found.get("status") or {}).get("phase") == "Terminating":
            raise PodlabError(f"The namespace {student.namespace} is still being deleted.",
                              hint="Wait for `podlab classroom delete` to finish, then create again.")
    _apply(api, "/api/v1/namespaces", namespace_object(course, student))


def request_token(api: client.ApiClient, namespace: str, seconds: int) -> tuple[str, str]:
    """A token for the student's ServiceAccount from the TokenRequest API: (token, expirationTimestamp)."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"expirationSeconds": seconds}}
    try:
        reply = request_json(api, "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{SERVICE_ACCOUNT}/token",
                             body=body)
    except ApiException as e:
        raise api_error(e, f"requesting a token for {namespace}/{SERVICE_ACCOUNT}") from None
    return reply["status"]["token"], reply["status"]["expirationTimestamp"]


def kubeconfig_text(course: str, student: Student, *, server: str, ca_pem: str, token: str) -> str:
    """A kubeconfig for the student: the cluster, their token, their namespace as the context's, and the
    classroom marker that puts their lab sessions in classroom mode (podlab.classmode)."""
    name = f"podlab-classroom-{student.namespace}"
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": course, "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode()}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": course, "user": name, "namespace": student.namespace,
                                                "extensions": [marker_extension(course, student.name)]}}],
        "current-context": name,
    }
    return yaml.safe_dump(config, sort_keys=False)


def check_token_seconds(seconds: int) -> int:
    """The token lifetime if TokenRequest can give it; else PodlabError."""
    if seconds < MIN_TOKEN_SECONDS:
        raise PodlabError(f"A token of {seconds} s: TokenRequest gives none shorter than {MIN_TOKEN_SECONDS} s "
                          "(\"may not specify a duration less than 10 minutes\").",
                          hint=f"Pass --token-seconds {MIN_TOKEN_SECONDS} or more.")
    return seconds


def create(api: client.ApiClient, course: str, students: list[Student], *, out: Path, labs: Path,
           token_seconds: int = DEFAULT_TOKEN_SECONDS, cpu_overcommit: float = 1.0,
           say: Any = print) -> list[Student]:
    """Make every student's namespace, rights, quota and kubeconfig; return the students with their kubeconfigs."""
    check_token_seconds(token_seconds)
    plan = plan_quota(cluster_capacity(api), lab_needs(labs), len(students), cpu_overcommit=cpu_overcommit)
    say(f"sizing {len(students)} students of course {course}:")
    for line in plan.lines:
        say(f"  {line}")
    others = sorted({(ns["metadata"].get("labels") or {}).get(COURSE_LABEL, "") for ns in request_json(
        api, "GET", "/api/v1/namespaces", query=[("labelSelector", f"{MANAGED_BY}={MADE_BY},{COURSE_LABEL}!={course}")]
    ).get("items") or []})
    if others:
        say(f"  note: course(s) {', '.join(others)} also have students here; their quotas are not subtracted, "
            "only what their pods request now")
    server = api.configuration.host
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    made = []
    for student in students:
        _claim_namespace(api, course, student)
        for obj in student_objects(course, student, plan, labs):
            _apply(api, _PATHS[obj["kind"]].format(ns=student.namespace), obj)
        # The root CA controller publishes the cluster's CA in every namespace: the kubeconfig's CA.
        ca = wait_until(student.namespace, "kube-root-ca.crt", exists, kind="ConfigMap", api=api)
        token, expires = request_token(api, student.namespace, token_seconds)
        path = out / f"{student.slug}.kubeconfig"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(kubeconfig_text(course, student, server=server, ca_pem=ca["data"]["ca.crt"], token=token))
        made.append(Student(student.name, student.slug, student.namespace, path, expires))
        say(f"✓ {student.namespace}: kubeconfig {path} (token expires {expires})")
    return made


def course_namespaces(api: client.ApiClient, course: str) -> list[dict[str, Any]]:
    """The namespaces `create` made for the course, as served."""
    try:
        return request_json(api, "GET", "/api/v1/namespaces",
                            query=[("labelSelector", course_selector(course))]).get("items") or []
    except ApiException as e:
        raise api_error(e, f"listing the namespaces of course {course}") from None


def delete(api: client.ApiClient, course: str, *, out: Path | None = None, say: Any = print) -> list[str]:
    """Delete the course's namespaces (and with them all they hold) and the kubeconfigs written to out."""
    found = course_namespaces(api, course)
    for ns in found:
        name = ns["metadata"]["name"]
        try:
            request_json(api, "DELETE", f"/api/v1/namespaces/{name}",
                         body={"apiVersion": "v1", "kind": "DeleteOptions",
                               "preconditions": {"uid": ns["metadata"]["uid"]}})
        except ApiException as e:
            if e.status not in (404, 409):
                raise api_error(e, f"deleting namespace {name}") from None
    for ns in found:
        wait_until(None, ns["metadata"]["name"], deleted, kind="Namespace", api=api)
        slug = (ns["metadata"].get("labels") or {}).get(STUDENT_LABEL, "")
        if out is not None and slug:
            (out / f"{slug}.kubeconfig").unlink(missing_ok=True)
        say(f"✓ deleted {ns['metadata']['name']}")
    return [ns["metadata"]["name"] for ns in found]


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT (not verified: the API server does that), e.g. to read exp and iat."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# -- the `podlab classroom` command ----------------------------------------------------------------

def _labs_folder(value: str | None) -> Path:
    return Path(value) if value else Path(__file__).resolve().parents[2] / "labs"


def _admin_api(args: Any) -> client.ApiClient:
    from .connect import connect, connection
    kubeconfig = Path(args.kubeconfig) if args.kubeconfig else None
    chosen = connection(kubeconfig)
    print(f"instructor: context {chosen.context} ({chosen.rule})")
    return connect(kubeconfig)


def cmd_classroom(args: Any) -> int:
    """Run `podlab classroom create|report|delete`."""
    check_course(args.course)
    out = Path(args.out) if getattr(args, "out", None) else Path(f"{args.course}-kubeconfigs")
    if args.action == "create":  # bad input is refused before the cluster is asked anything
        students = roster(args.course, students=args.students,
                          roster_file=Path(args.roster) if args.roster else None)
        check_token_seconds(args.token_seconds)
    api = _admin_api(args)
    if args.action == "create":
        made = create(api, args.course, students, out=out, labs=_labs_folder(args.labs),
                      token_seconds=args.token_seconds, cpu_overcommit=args.cpu_overcommit)
        print(f"✓ {len(made)} students of course {args.course}; hand each their kubeconfig from {out}/")
        return 0
    if args.action == "delete":
        gone = delete(api, args.course, out=out)
        print(f"✓ deleted {len(gone)} student namespaces of course {args.course}")
        return 0
    from .classprogress import read_course, report_csv, report_html, report_table
    from .exercises import EXERCISE_FILE, load_exercises
    labs = _labs_folder(args.labs)
    exercises = {f.parent.name: [e.id for e in load_exercises(f)] for f in sorted(labs.glob(f"*/{EXERCISE_FILE}"))}
    rows = read_course(api, course_namespaces(api, args.course))
    print(report_table(rows, exercises))
    if args.csv:
        Path(args.csv).write_text(report_csv(rows, exercises), encoding="utf-8")
        print(f"✓ CSV: {args.csv}")
    if args.html:
        Path(args.html).write_text(report_html(rows, exercises, course=args.course), encoding="utf-8")
        print(f"✓ HTML: {args.html}")
    return 0


def add_parser(sub: Any) -> None:
    """Add `classroom create|report|delete` to the podlab command's subparsers."""
    room = sub.add_parser("classroom", help="instructors: a namespace per student, their kubeconfigs, "
                                            "and who solved what (run with admin rights)")
    actions = room.add_subparsers(dest="action", required=True)
    create_p = actions.add_parser("create", help="make each student's namespace, Role, quota and kubeconfig")
    who = create_p.add_mutually_exclusive_group(required=True)
    who.add_argument("--students", type=int, metavar="N", help="N students named student-01 ... student-N")
    who.add_argument("--roster", metavar="FILE", help="a text file with one student name per line")
    create_p.add_argument("--token-seconds", type=int, default=DEFAULT_TOKEN_SECONDS, metavar="S",
                          help=f"how long the students' tokens last (default {DEFAULT_TOKEN_SECONDS}; "
                               f"at least {MIN_TOKEN_SECONDS})")
    create_p.add_argument("--cpu-overcommit", type=float, default=1.0, metavar="F",
                          help="share F times the free CPU among the students' requests (default 1: no overcommit)")
    report_p = actions.add_parser("report", help="who solved what: a table, and --csv/--html files")
    report_p.add_argument("--csv", metavar="FILE", help="also write one CSV line per student and exercise")
    report_p.add_argument("--html", metavar="FILE", help="also write a static HTML page")
    delete_p = actions.add_parser("delete", help="delete everything `create` made for the course, and nothing else")
    for p in (create_p, report_p, delete_p):
        p.add_argument("--course", required=True, help="the course's name (prefixes the namespaces)")
        p.add_argument("--kubeconfig", metavar="PATH", help="the instructor's (admin) kubeconfig")
        p.add_argument("--labs", metavar="PATH", help="the labs folder (default: the book's labs/)")
    for p in (create_p, delete_p):
        p.add_argument("--out", metavar="DIR", help="where the students' kubeconfigs go (default ./COURSE-kubeconfigs)")
    room.set_defaults(func=cmd_classroom)
