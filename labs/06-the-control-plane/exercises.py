"""Exercises of lab 06, "The control plane at work, hands-on" (labs/06-the-control-plane.ipynb).

Exercises 1 to 3 give a manifest to edit: its starter and one solution are YAML files beside
this module (exN-*.starter.yaml, exN-*.solution.yaml). The checks apply the reader's manifest
in the lab's namespace and look at what the control plane does with it: whether the API server
admits a Deployment and its Service selects the pods; whether a ReplicaSet gets all its pods
created under a ResourceQuota (its status and FailedCreate events); whether the API server
accepts a projected token for an audience (a TokenReview). Exercise 4's answer is a patch: the
check holds a second namespace in Terminating with a ConfigMap's finalizer, sends the patch,
and waits for the namespace to go. Exercise 5 asks for predictions: the check deletes three
Deployments, one per propagation policy, and looks at what is left.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from podlab._api import request_json
from podlab.assertions import expect_equal, expect_true
from podlab.conditions import WaitCondition, deleted, satisfies
from podlab.errors import PodlabError, WaitTimeout
from podlab.exercises import Predictions, apply_answer, one_of, require_pod, require_predictions
from podlab.manifests import load_manifests
from podlab.objects import KubeObject
from podlab.podstate import is_ready
from podlab.quantities import parse_quantity
from podlab.timeouts import ANSWER_READY

HERE = Path(__file__).resolve().parent


def _objects(answer: str, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in load_manifests(answer) if o.get("kind") == kind}


def _require(answer: str, kind: str, name: str) -> dict:
    found = _objects(answer, kind)
    if name not in found:
        raise AssertionError(f"✗ the manifest must define a {kind} named {name!r} (keep the starter's "
                             f"name); it defines {sorted(found) or f'no {kind}'}")
    return found[name]


def _list(lab, path: str, selector: str) -> list[dict]:
    """The objects of a collection in the lab's namespace matching a label selector, as served."""
    reply = request_json(lab.api, "GET", path.replace("{namespace}", lab.namespace),
                         query=[("labelSelector", selector)])
    return reply.get("items") or []


def _selector(labels: dict) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def _labels(labels: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(labels.items())) or "none"


def _available(replicas: int):
    return satisfies(lambda d: ((d.get("status") or {}).get("availableReplicas") or 0) >= replicas,
                     f"{replicas} available replicas")


# -- Exercise 1: a Deployment whose selector and template disagree --------------------------------

LEDGER_REPLICAS = 2


def verify_ledger(lab, answer: str) -> None:
    deployment = _require(answer, "Deployment", "ledger")
    service = _require(answer, "Service", "ledger")
    wanted = (service.get("spec") or {}).get("selector") or {}
    if wanted != {"app": "ledger", "tier": "api"}:
        raise AssertionError("✗ keep the Service's selector (app=ledger, tier=api): other teams' clients "
                             "and dashboards select the ledger's pods by these labels")
    try:
        apply_answer(lab, answer)
    except AssertionError as e:
        if "does not match template" not in str(e):
            raise
        spec = deployment.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        missing = {k: v for k, v in selector.items() if labels.get(k) != v}
        raise AssertionError(
            f"{e}\n  The Deployment's selector asks for {_labels(selector)}, and its pod template's labels "
            f"are {_labels(labels)}: the pods it would create lack {_labels(missing)}, so its ReplicaSet "
            "could never count them, and would create pods without end. The fix: give the template "
            f"(spec.template.metadata.labels) {_labels(missing)}; extra labels such as a role may stay") from None
    lab.wait("ledger", _available(LEDGER_REPLICAS), kind="Deployment", api_version="apps/v1",
             timeout=ANSWER_READY)
    selected = [p for p in _list(lab, "/api/v1/namespaces/{namespace}/pods", _selector(wanted))
                if not p["metadata"].get("deletionTimestamp") and is_ready(KubeObject(p, kind="Pod", api_version="v1"))]
    expect_equal("ready pods the Service ledger selects (app=ledger, tier=api)", len(selected), LEDGER_REPLICAS)


# -- Exercise 2: three replicas under a quota ------------------------------------------------------

QUOTA_FILE = HERE / "quota.yaml"
WORKERS = 3
APP_CPU = "150m"  # what the app needs: the answer may not ask for less


def _quantity(value: Any) -> float:
    return float(parse_quantity(value)) if value is not None else 0.0


def _millicores(value: float) -> str:
    return f"{round(value * 1000)}m"


def _pod_cpu_requests(pod: dict) -> dict[str, float]:
    return {c["name"]: _quantity(((c.get("resources") or {}).get("requests") or {}).get("cpu"))
            for c in (pod.get("spec") or {}).get("containers") or []}


def _current_replicaset(lab, deployment: str) -> dict:
    """The Deployment's newest ReplicaSet, once the Deployment controller has made it."""
    def newest(d) -> bool:
        status = d.get("status") or {}
        return status.get("observedGeneration", 0) >= d["metadata"]["generation"] and any(
            c.get("type") == "Progressing" for c in status.get("conditions") or [])
    d = lab.wait(deployment, satisfies(newest, "seen by its controller"), kind="Deployment",
                 api_version="apps/v1", timeout=ANSWER_READY)
    revision = (d["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    selector = _selector(d["spec"]["selector"]["matchLabels"])
    for rs in _list(lab, "/apis/apps/v1/namespaces/{namespace}/replicasets", selector):
        owners = [o.get("uid") for o in rs["metadata"].get("ownerReferences") or []]
        if d["metadata"]["uid"] in owners and (
                (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision):
            return rs
    raise PodlabError(f"deployment/{deployment} names revision {revision}, but no ReplicaSet of it has that revision.")


def _replica_failure(rs: dict) -> dict | None:
    for condition in (rs.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
            return condition
    return None


def verify_workers(lab, answer: str) -> None:
    deployment = _require(answer, "Deployment", "worker")
    spec = deployment.get("spec") or {}
    if spec.get("replicas") != WORKERS:
        raise AssertionError(f"✗ keep replicas: {WORKERS}: the work needs {WORKERS} workers")
    app = next((c for c in ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
                if c.get("name") == "app"), None)
    if app is None:
        raise AssertionError("✗ keep the container named 'app'")
    asked = _quantity(((app.get("resources") or {}).get("requests") or {}).get("cpu"))
    if asked < _quantity(APP_CPU):
        raise AssertionError(f"✗ container app asks for {_millicores(asked)} of CPU; it needs {APP_CPU} to do its "
                             "work: find the room elsewhere")
    # A clean start: no pods of an earlier attempt still counted by the quota.
    for pod in _list(lab, "/api/v1/namespaces/{namespace}/pods", "app=worker"):
        lab.wait(pod["metadata"]["name"], deleted, timeout=ANSWER_READY)
    lab.apply(QUOTA_FILE)
    try:
        lab.wait("team-budget", satisfies(lambda q: "requests.cpu" in ((q.get("status") or {}).get("used") or {}),
                                          "counted by the quota controller"),
                 kind="ResourceQuota", timeout=ANSWER_READY)
        apply_answer(lab, answer)
        rs = _current_replicaset(lab, "worker")
        name = rs["metadata"]["name"]
        rs = lab.wait(name, satisfies(lambda r: _replica_failure(r) is not None
                                      or ((r.get("status") or {}).get("availableReplicas") or 0) >= WORKERS,
                                      f"{WORKERS} available replicas, or a failure to create one"),
                      kind="ReplicaSet", api_version="apps/v1", timeout=ANSWER_READY)
        failure = _replica_failure(rs)
        if failure is not None:
            refused = [e.message for e in lab.events(name) if e.reason == "FailedCreate"]
            said = refused[-1] if refused else failure.get("message", "")
            # The quota's own words, without the pod's generated name (or an event aggregator's prefix).
            said = said[said.index("exceeded quota"):] if "exceeded quota" in said else said
            # The pods a refused batch did create exist before the ReplicaSet reports the failure.
            pods = [p for p in _list(lab, "/api/v1/namespaces/{namespace}/pods", "app=worker")
                    if not p["metadata"].get("deletionTimestamp")]
            created = len(pods)
            per_pod = ""
            if pods:
                requests = _pod_cpu_requests(pods[0])
                per_pod = (" Each pod, as admitted, asks for " + " + ".join(
                    f"{_millicores(v)} ({c})" for c, v in requests.items())
                    + f" = {_millicores(sum(requests.values()))} of CPU.")
            raise AssertionError(
                f"✗ the ReplicaSet of Deployment worker created {created} of {WORKERS} pods; its FailedCreate "
                f"event: {said}.{per_pod} "
                "A container that asks for nothing is given the LimitRange's default request at admission, "
                "and the quota counts it")
        quota = lab.get("ResourceQuota", "team-budget")
        used, hard = quota["status"]["used"]["requests.cpu"], quota["status"]["hard"]["requests.cpu"]
        expect_true(f"{WORKERS} workers available, within quota team-budget (requests.cpu: used <= hard)",
                    _quantity(used) <= _quantity(hard))
    finally:
        lab.delete(QUOTA_FILE)  # later exercises run without the quota, solved or not


# -- Exercise 3: a projected token with its own audience and expiry --------------------------------

AUDIENCE = "ledger.podlab.dev"
MOUNT = "/var/run/secrets/ledger"
MAX_EXPIRY = 900  # the ledger's rule: tokens live at most 15 minutes
MAX_EXPIRY_MINUTES = MAX_EXPIRY // 60
TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"


def _claims(token: str) -> dict:
    """The claims of a JWT (its middle part), read without checking the signature: the TokenReview does that."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def token_review(lab, token: str, audiences: list[str]) -> dict:
    """Ask the API server whether it accepts a token for audiences (a TokenReview); return its status."""
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
              "spec": {"token": token, "audiences": audiences}}
    reply = lab.request("POST", TOKEN_REVIEWS, review)
    if reply.status != 201:
        raise PodlabError(f"The TokenReview was refused (HTTP {reply.status}): {reply.message}")
    return json.loads(reply.message).get("status") or {}


def _token_source(pod: dict) -> tuple[str, dict]:
    """(file path, serviceAccountToken source) of the projected token mounted at MOUNT."""
    container = next(iter(pod["spec"].get("containers") or []), {})
    volume = next((m["name"] for m in container.get("volumeMounts") or [] if m.get("mountPath") == MOUNT), None)
    if volume is None:
        raise AssertionError(f"✗ keep the volume mounted at {MOUNT}: the reporter reads its token there")
    for v in pod["spec"].get("volumes") or []:
        if v.get("name") == volume:
            for source in (v.get("projected") or {}).get("sources") or []:
                if "serviceAccountToken" in source:
                    token = source["serviceAccountToken"]
                    return f"{MOUNT}/{token.get('path', '')}", token
    raise AssertionError(f"✗ the volume at {MOUNT} must be a projected volume with a serviceAccountToken source")


def verify_reporter(lab, answer: str) -> None:
    pod = require_pod(answer, "reporter")
    path, source = _token_source(pod)
    apply_answer(lab, answer)
    lab.wait("reporter", satisfies(is_ready, "ready"), timeout=ANSWER_READY)
    token = lab.read_file("reporter", path).strip()
    claims = _claims(token)
    status = token_review(lab, token, [AUDIENCE])
    if not status.get("authenticated"):
        raise AssertionError(
            f"✗ the API server does not accept the token for audience {AUDIENCE} (TokenReview: authenticated="
            f"false; the token's audience is {claims.get('aud')}). A projected token without an audience is "
            "meant for the API server itself, and a service that accepted it could replay it to the API server")
    expect_equal(f"TokenReview for {AUDIENCE}: audiences", status.get("audiences"), [AUDIENCE])
    expect_equal("TokenReview: user", status["user"]["username"], f"system:serviceaccount:{lab.namespace}:default")
    extra = status["user"].get("extra") or {}
    expect_equal("TokenReview: the pod the token is bound to",
                 extra.get("authentication.kubernetes.io/pod-name"), ["reporter"])
    lifetime = claims["exp"] - claims["iat"]
    if lifetime > MAX_EXPIRY:
        raise AssertionError(f"✗ the token is valid for {lifetime} s; the ledger accepts tokens that live at most "
                             f"{MAX_EXPIRY} s")
    expect_equal("the token's lifetime (exp - iat), in seconds", lifetime, source.get("expirationSeconds", 3600))
    own = token_review(lab, token, [])  # no audiences: the API server's own
    expect_true("the API server does not accept it for its own audiences (TokenReview without audiences: "
                "authenticated=false)", not own.get("authenticated"))


# -- Exercise 4: a namespace stuck in Terminating -----------------------------------------------------

HOLD_FINALIZER = "podlab.dev/hold"
HELD_CONFIGMAP = "ledger-lock"
RELEASE_TIMEOUT = 30.0  # the namespace controller looks again 8 s after it finds a finalizer (15 s / 2 + 1)
HELD = "NamespaceFinalizersRemaining"


def held_namespace(lab) -> str:
    """The name of the second namespace exercise 4 holds in Terminating: the lab's, with -held."""
    return f"{lab.namespace}-held"


def namespace_conditions(ns: dict | None) -> dict[str, dict]:
    """The conditions the namespace controller reports on a namespace being deleted, by type."""
    return {c["type"]: c for c in ((ns or {}).get("status") or {}).get("conditions") or []}


def _held(ns: dict | None) -> bool:
    return (namespace_conditions(ns).get(HELD) or {}).get("status") == "True"


def hold_namespace(lab) -> str:
    """Create the held namespace with ConfigMap ledger-lock under finalizer podlab.dev/hold, delete the
    namespace, and wait until the namespace controller reports the finalizer holding it; return its name.
    A namespace already held (an earlier attempt) is used as it is."""
    name = held_namespace(lab)
    settled = lab.wait(name, podlab_condition("held by a finalizer, or gone", lambda ns: ns is None or _held(ns)
                                              or not (ns.get("metadata") or {}).get("deletionTimestamp")),
                       kind="Namespace", timeout=RELEASE_TIMEOUT)
    if settled is None:
        lab.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                   {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": HELD_CONFIGMAP, "namespace": name, "finalizers": [HOLD_FINALIZER]},
                    "data": {"holder": "the ledger's nightly migration"}}])
        # Both carry the session's labels: the lab's close releases podlab.dev/ finalizers and deletes them.
    if not _held(settled):
        reply = lab.request("DELETE", f"/api/v1/namespaces/{name}")
        if reply.status >= 300:
            raise PodlabError(f"Deleting namespace {name} was refused (HTTP {reply.status}): {reply.message}")
    lab.wait(name, satisfies(_held, f"condition {HELD}=True"), kind="Namespace", timeout=RELEASE_TIMEOUT)
    return name


def podlab_condition(description: str, test) -> WaitCondition:
    """A wait condition that also sees an absent object (None), which satisfies() never does."""
    return WaitCondition(description, test)


RELEASE_KEYS = ("target", "patch")


def verify_release(lab, answer) -> None:
    require_predictions(answer, RELEASE_KEYS, how="name what to patch and give the patch")
    target, patch = answer["target"], answer["patch"]
    if not isinstance(patch, dict):
        raise AssertionError("✗ patch must be a dict: a JSON merge patch, e.g. {'metadata': {'labels': {'a': 'b'}}}")
    if target in ("namespace/finalize", "finalize"):
        raise AssertionError(
            "✗ the /finalize subresource would drop the namespace's own finalizer `kubernetes` and the namespace "
            "would go at once, but not its content: ConfigMap ledger-lock would stay in storage, in a namespace "
            "that no longer exists, where no controller looks for it. Release what holds the namespace instead")
    name = hold_namespace(lab)
    if target == "namespace":
        path = f"/api/v1/namespaces/{name}"
    elif isinstance(target, str) and target.startswith("configmap/"):
        path = f"/api/v1/namespaces/{name}/configmaps/{target.split('/', 1)[1]}"
    else:
        raise AssertionError(f"✗ target {target!r}: write 'namespace' (the held namespace itself) or "
                             "'configmap/<name>' (a ConfigMap in it)")
    reply = lab.request("PATCH", path, patch, content_type="application/merge-patch+json")
    if reply.status >= 300:
        raise AssertionError(f"✗ the API server refused the patch (HTTP {reply.status}): {reply.message}")
    try:
        lab.wait(name, deleted, kind="Namespace", timeout=RELEASE_TIMEOUT)
    except WaitTimeout:
        ns = lab.get("Namespace", name)
        said = "; ".join(f"{c['type']}: {c.get('message', '')}" for c in namespace_conditions(ns).values()
                         if c.get("status") == "True")
        why = ""
        if target == "namespace":
            why = (" A namespace has no metadata.finalizers of its own here; its spec.finalizers [kubernetes] "
                   "is the namespace controller's, removed by the controller once the content is gone (and "
                   "only through /finalize). Patching the namespace changes nothing that holds it.")
        raise AssertionError(f"✗ namespace {name} is still Terminating {RELEASE_TIMEOUT:.0f} s after your patch; "
                             f"the namespace controller says: {said}.{why}") from None
    expect_equal(f"GET namespace {name}: HTTP status", lab.request("GET", f"/api/v1/namespaces/{name}").status, 404)


# -- Exercise 5: predict, then observe: what each propagation policy leaves behind ----------------------

PREDICT_FILE = HERE / "predict-propagation.yaml"
POLICIES = ("Background", "Foreground", "Orphan")
LEFT = ("nothing", "replicaset and pods", "pods")
ORDER = ("before its pods", "after its pods")
LEFT_KEYS = {f"{policy}: left behind": policy for policy in POLICIES}
ORDER_KEYS = {f"{policy}: the Deployment is gone": policy for policy in ("Background", "Foreground")}
PREDICT_KEYS = (*LEFT_KEYS, *ORDER_KEYS)
LEFT_WORDS, ORDER_WORDS = ", ".join(map(repr, LEFT)), " or ".join(map(repr, ORDER))


def _owned(obj: dict | None) -> bool:
    return bool(obj is not None and (obj.get("metadata") or {}).get("ownerReferences"))


def _clean(lab, app: str) -> None:
    """Delete what an earlier attempt left of one Deployment: its ReplicaSets and pods."""
    for rs in _list(lab, "/apis/apps/v1/namespaces/{namespace}/replicasets", f"app={app}"):
        lab.delete(rs["metadata"]["name"], kind="ReplicaSet", api_version="apps/v1")
    for pod in _list(lab, "/api/v1/namespaces/{namespace}/pods", f"app={app}"):
        lab.delete(pod["metadata"]["name"], grace_period=1)


def _observe_deletion(lab, policy: str) -> tuple[str, str]:
    """Delete prop-<policy> with that propagation policy; return (what is left, when the Deployment went)."""
    name = f"prop-{policy.lower()}"
    rs = _current_replicaset(lab, name)["metadata"]["name"]
    pods = [p["metadata"]["name"] for p in _list(lab, "/api/v1/namespaces/{namespace}/pods", f"app={name}")]
    reply = lab.request("DELETE", f"/apis/apps/v1/namespaces/{{namespace}}/deployments/{name}",
                        {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": policy})
    if reply.status >= 300:
        raise PodlabError(f"Deleting deployment/{name} was refused (HTTP {reply.status}): {reply.message}")
    lab.wait(name, deleted, kind="Deployment", api_version="apps/v1", timeout=ANSWER_READY)
    remaining = _list(lab, "/api/v1/namespaces/{namespace}/pods", f"app={name}")
    order = "before its pods" if remaining else "after its pods"
    # Settled: the ReplicaSet is gone, or orphaned (no owner: the garbage collector leaves it); each
    # pod is gone, or owned by a ReplicaSet that stays.
    replicaset = lab.wait(rs, podlab_condition("gone, or orphaned", lambda o: not _owned(o)),
                          kind="ReplicaSet", api_version="apps/v1", timeout=ANSWER_READY)
    left_pods = [p for p in pods
                 if lab.wait(p, podlab_condition("gone, or kept by a ReplicaSet that stays",
                                                 lambda o: o is None or replicaset is not None or not _owned(o)),
                             timeout=ANSWER_READY) is not None]
    left = ("replicaset and pods" if replicaset is not None and left_pods else
            "pods" if left_pods else "replicaset" if replicaset is not None else "nothing")
    return left, order


def _observe_propagation(lab) -> dict[str, str]:
    for policy in POLICIES:  # a clean start: nothing of an earlier attempt
        lab.delete(f"prop-{policy.lower()}", kind="Deployment", api_version="apps/v1")
        _clean(lab, f"prop-{policy.lower()}")
    lab.apply(PREDICT_FILE)
    for policy in POLICIES:
        lab.wait(f"prop-{policy.lower()}", _available(2), kind="Deployment", api_version="apps/v1",
                 timeout=ANSWER_READY)
    observed = {policy: _observe_deletion(lab, policy) for policy in POLICIES}
    return ({key: observed[policy][0] for key, policy in LEFT_KEYS.items()}
            | {key: observed[policy][1] for key, policy in ORDER_KEYS.items()})


verify_predict_propagation = Predictions(
    dict.fromkeys(PREDICT_KEYS, ""), f"write one of {', '.join(map(repr, LEFT))} (left behind) or of "
                                     f"{', '.join(map(repr, ORDER))} (the Deployment is gone)",
    _observe_propagation, label="{key}",
    validate=one_of({**dict.fromkeys(LEFT_KEYS, LEFT), **dict.fromkeys(ORDER_KEYS, ORDER)},
                    say=f"a prediction is one of {LEFT_WORDS} (left behind), or {', '.join(map(repr, ORDER))}"))
