"""Live: apply, waits, exec, files, logs, events and failure reports against the lab cluster."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from kubernetes import client

import podlab
from podlab.conditions import deleted, has_condition, in_phase, not_ready, ready, restarted, satisfies
from podlab.errors import PodlabError
from podlab.events import event_line, event_time
from podlab.images import LAB_IMAGE, NODE_SHARE_DIR
from podlab.waiting import WaitFailed, WaitTimeout, wait_for_objects

pytestmark = pytest.mark.live


def pod(name: str, script: str, *, restart: str = "Always", extra: str = "") -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  restartPolicy: {restart}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: {LAB_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", {json.dumps(script)}]
{extra}"""


def ready_when(test: str) -> str:
    """A readiness probe: the pod is Ready once `test` succeeds in the container."""
    return f"""    readinessProbe:
      exec: {{command: ["sh", "-c", {json.dumps(test)}]}}
      periodSeconds: 1
      failureThreshold: 1
"""


def test_apply_wait_ready_and_exec(lab):
    applied = lab.apply(pod("demo", "sleep 3600"))
    assert repr(applied) == "applied pod/demo"
    assert applied[0]["metadata"]["namespace"] == lab.namespace
    running = lab.wait("demo", ready, timeout=60)
    assert running.status.phase == "Running" and running.metadata.name == "demo"

    result = lab.exec("demo", ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 3)
    assert lab.exec("demo", "echo $HOSTNAME").stdout == "demo\n"
    assert lab.exec("demo", ["true"]).exit_code == 0
    with pytest.raises(PodlabError, match="executable file not found|no such file"):
        lab.exec("demo", ["no-such-command"])


def test_read_file_and_missing_file(lab):
    lab.apply(pod("files", "echo -n 'exact' > /tmp/value; sleep 3600",
                  extra=ready_when("test -f /tmp/value")))
    lab.wait("files", ready, timeout=60)
    assert lab.read_file("files", "/etc/hostname") == "files\n"
    assert lab.read_file("files", "/tmp/value") == "exact"
    with pytest.raises(PodlabError) as caught:
        lab.read_file("files", "/etc/podinfo/missing")
    assert "Cannot read /etc/podinfo/missing in pod" in caught.value.message
    assert "No such file or directory" in caught.value.message
    assert "/etc/podinfo" in caught.value.hint


def test_logs_and_events(lab):
    lab.apply(pod("talker", "echo hello; echo world", restart="Never"))
    lab.wait("talker", in_phase("Succeeded"), timeout=60)
    assert lab.logs("talker") == "hello\nworld\n"
    assert lab.logs("talker", tail_lines=1) == "world\n"
    found = lab.events("talker")
    assert {"Scheduled", "Started"} <= {e.reason for e in found}
    assert all((e.involvedObject.kind, e.involvedObject.name) == ("Pod", "talker") for e in found)
    assert all(event_line(e).split()[2] == "pod/talker:" for e in found)
    times = [event_time(e) for e in found]
    assert times == sorted(times) and None not in times


def test_strict_validation_reports_a_misspelt_field(lab):
    typo = pod("typo", "sleep 1").replace("    image:", "    imagee:")
    with pytest.raises(PodlabError) as caught:
        lab.apply(typo)
    print(caught.value)
    assert '.spec.containers[name="app"].imagee: field not declared in schema' in caught.value.message
    assert "`kubectl explain pod.spec.containers`" in caught.value.hint
    with pytest.raises(PodlabError, match="not found"):
        lab.pod("typo")


def test_reapply_is_idempotent_and_an_immutable_change_says_delete_first(lab):
    lab.apply(pod("same", "sleep 3600"))
    lab.apply(pod("same", "sleep 3600"))
    with pytest.raises(PodlabError) as caught:
        lab.apply(pod("same", "sleep 7200"))
    assert "lab.delete('same')" in caught.value.hint
    assert lab.delete("same") == ["pod/same"]
    with pytest.raises(PodlabError, match="not found"):
        lab.pod("same")


def test_timeout_report_shows_conditions_states_events_and_log_tail(lab):
    # Never ready (the probe fails), so a container that runs for a moment between restarts
    # cannot count as ready: the kubelet reports such a short-lived Ready=True on 1.37.
    lab.apply(pod("crash", "echo about to fail; exit 1", extra=ready_when("false")))
    lab.wait("crash", restarted(1), timeout=60)
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        lab.wait("crash", ready, timeout=3)
    assert time.monotonic() - started < 10
    text = str(caught.value)
    print(text)
    assert text.startswith(f"Timed out after 3s waiting for pod/crash in namespace {lab.namespace} to be ready.")
    for expected in ("  conditions:", "    Ready ", "ContainersNotReady", "  containers:",
                     "exit code 1 (Error)", "restarts=", "  events (oldest first):", "BackOff",
                     "| about to fail"):
        assert expected in text, expected
    assert "keeps exiting" in caught.value.hint


def test_finished_pod_fails_fast_instead_of_timing_out(lab):
    lab.apply(pod("once", "echo bye; exit 2", restart="Never", extra=ready_when("false")))
    started = time.monotonic()
    with pytest.raises(WaitFailed) as caught:
        lab.wait("once", ready, timeout=90)
    assert not isinstance(caught.value, WaitTimeout)
    assert time.monotonic() - started < 45
    assert "will never be ready: it has failed (phase Failed)" in caught.value.message
    assert "exit code 2 (Error)" in caught.value.message


def test_readiness_flips_both_ways(lab):
    lab.apply(pod("probe", "sleep 3600", extra=ready_when("test -f /tmp/ready")))
    lab.wait("probe", in_phase("Running"), timeout=60)
    lab.wait("probe", has_condition("Ready", "False"), timeout=10)
    lab.exec("probe", "touch /tmp/ready")
    lab.wait("probe", ready, timeout=30)
    lab.exec("probe", "rm /tmp/ready")
    lab.wait("probe", not_ready, timeout=30)
    assert lab.pod("probe").status.phase == "Running"


def test_wait_for_object_sees_deployment_become_available(lab):
    lab.apply(f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {{name: app, image: "{LAB_IMAGE}", imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}}
""")
    deployment = lab.wait("web", satisfies(lambda d: d.get("status", {}).get("availableReplicas", 0) >= 2,
                                           "2 replicas available"),
                          kind="Deployment", api_version="apps/v1", timeout=90)
    assert deployment["status"]["availableReplicas"] == 2
    assert repr(deployment) == "deployment/web"
    assert lab.delete("web", kind="Deployment", api_version="apps/v1") == ["deployment/web"]


def test_read_node_file_written_through_hostpath(lab):
    name = f"note-{uuid.uuid4().hex[:8]}.txt"
    share = f"""    volumeMounts: [{{name: share, mountPath: /share}}]
  volumes:
  - name: share
    hostPath: {{path: {NODE_SHARE_DIR}, type: DirectoryOrCreate}}"""
    lab.apply(pod("writer", f"echo written by $HOSTNAME > /share/{name}; sleep 3600",
                  extra=ready_when(f"test -s /share/{name}") + share))
    lab.wait("writer", ready, timeout=60)
    try:
        assert lab.read_node_file(f"{NODE_SHARE_DIR}/{name}") == "written by writer\n"
        with pytest.raises(PodlabError, match="Cannot read"):
            lab.read_node_file(f"{NODE_SHARE_DIR}/missing-{name}")
    finally:
        lab.exec("writer", f"rm -f /share/{name}")
    with pytest.raises(PodlabError, match="outside"):
        lab.read_node_file("/etc/passwd")


def test_wait_for_objects_follows_a_services_endpoint_slices(lab):
    lab.apply(pod("backend", "sleep 3600", extra=ready_when("test -f /tmp/ready")).replace(
        "metadata:\n  name: backend", "metadata:\n  name: backend\n  labels: {app: backend}"))
    lab.apply("""
apiVersion: v1
kind: Service
metadata: {name: backend}
spec: {selector: {app: backend}, ports: [{port: 80}]}
""")

    def endpoint_ready(slices: list[dict]) -> bool | None:
        for endpoint in (e for s in slices for e in s.get("endpoints") or []):
            if (endpoint.get("targetRef") or {}).get("name") == "backend":
                return endpoint["conditions"].get("ready")
        return None

    wait_for_objects(lab.namespace, "EndpointSlice", "kubernetes.io/service-name=backend",
                     lambda slices: endpoint_ready(slices) is False, description="listing backend, not ready",
                     api_version="discovery.k8s.io/v1", timeout=60, api=lab.api)
    lab.wait("backend", in_phase("Running"), timeout=60)
    lab.exec("backend", "touch /tmp/ready")
    slices = wait_for_objects(lab.namespace, "EndpointSlice", "kubernetes.io/service-name=backend",
                              lambda slices: endpoint_ready(slices) is True, description="backend ready",
                              api_version="discovery.k8s.io/v1", timeout=60, api=lab.api)
    assert {s["metadata"]["labels"]["kubernetes.io/service-name"] for s in slices} == {"backend"}
    assert repr(slices) == "1 endpointslice object"


# -- Lab.wait with condition values ---------------------------------------------------------------

TRAP = "trap 'exit 0' TERM; "  # PID 1 gets no default SIGTERM handling: exit at once when deleted


def test_wait_ready_then_deleted_returns_the_pod_then_none(lab):
    lab.apply(pod("waiter", TRAP + "sleep 3600 & wait"))
    ready = lab.wait("waiter", podlab.ready, timeout=60)
    assert isinstance(ready, podlab.KubeObject) and repr(ready) == "pod/waiter"
    assert ready.status.phase == "Running" and ready["status"]["phase"] == "Running"
    assert isinstance(lab.pod("waiter"), podlab.KubeObject) and isinstance(lab.get("Pod", "waiter"), podlab.KubeObject)
    client.CoreV1Api(lab.api).delete_namespaced_pod("waiter", lab.namespace)
    assert lab.wait("waiter", podlab.deleted, timeout=30) is None


def test_wait_for_phase_succeeded_and_termination_reasons(lab):
    lab.apply(pod("job", "echo done", restart="Never"))
    done = lab.wait("job", podlab.in_phase("Succeeded"), timeout=60)
    assert done.status.phase == "Succeeded"
    lab.wait("job", podlab.terminated("Completed", exit_code=0), timeout=5)
    started = time.monotonic()
    with pytest.raises(WaitFailed) as caught:
        lab.wait("job", podlab.terminated("OOMKilled"), timeout=60)
    assert time.monotonic() - started < 10 and not isinstance(caught.value, WaitTimeout)
    assert ("will never be terminated with reason OOMKilled: it has succeeded (phase Succeeded) and its "
            "containers ended otherwise (app: exit code 0 (Completed))") in caught.value.message


def test_wait_for_a_restart_and_an_error_termination(lab):
    lab.apply(pod("crasher", "echo crashing; exit 3", extra=ready_when("false")))
    restarted = lab.wait("crasher", podlab.restarted(at_least=1), timeout=60)
    assert restarted.status.containerStatuses[0].restartCount >= 1
    ended = lab.wait("crasher", podlab.terminated("Error", exit_code=3), timeout=30)
    assert ended.status.containerStatuses[0].lastState.terminated.exitCode == 3


def test_wait_for_unschedulable_and_the_report_of_a_pod_that_never_starts(lab):
    lab.apply(pod("nowhere", TRAP + "sleep 3600 & wait",
                  extra="  nodeSelector: {podlab.dev/no-such-node: \"true\"}\n"))
    stuck = lab.wait("nowhere", podlab.unschedulable, timeout=30)
    assert "nodeName" not in stuck.spec
    with pytest.raises(WaitTimeout) as caught:
        lab.wait("nowhere", podlab.ready, timeout=2)
    assert "PodScheduled  False  Unschedulable" in caught.value.message
    assert caught.value.hint.startswith("The scheduler found no node for the pod")


@pytest.mark.timed  # it bounds how long a first successful attempt takes: make test runs it alone
def test_exec_until_returns_the_seconds_waited_and_shows_the_last_output_on_timeout(lab):
    lab.apply(pod("flag", TRAP + "sleep 2; touch /tmp/flag; sleep 3600 & wait"))
    lab.wait("flag", podlab.in_phase("Running"), timeout=60)
    waited = lab.exec_until("flag", "test -f /tmp/flag", timeout=30)
    assert 0.0 <= waited < 30
    assert lab.exec_until("flag", ["test", "-f", "/tmp/flag"], timeout=5) < 2  # true at once
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        lab.exec_until("flag", "echo still trying; echo no >&2; exit 4", timeout=2)
    assert time.monotonic() - started < 8
    text = caught.value.message
    assert text.startswith("Timed out after 2s waiting for `echo still trying; echo no >&2; exit 4` to succeed in "
                           f"pod {lab.namespace}/flag:")
    assert "the last exited with code 4" in text and "stdout | still trying" in text and "stderr | no" in text


def test_env_and_check(lab):
    lab.apply(pod("envy", TRAP + "sleep 3600 & wait").replace(
        "    command:", "    env:\n    - {name: GREETING, value: \"a=b\\nsecond line\"}\n    command:"))
    lab.wait("envy", podlab.ready, timeout=60)
    environment = lab.env("envy")
    assert environment["GREETING"] == "a=b\nsecond line"
    assert environment["HOSTNAME"] == "envy" and "KUBERNETES_SERVICE_HOST" in environment
    assert lab.exec("envy", "true").check().exit_code == 0
    with pytest.raises(PodlabError, match=r"`cat /nope` in pod .*/envy exited with code 1: cat: can't open '/nope'"):
        lab.exec("envy", "cat /nope").check()


def test_a_resource_quota_rejection_is_an_api_rejected_403_with_its_hint(lab):
    lab.apply("""
apiVersion: v1
kind: ResourceQuota
metadata: {name: no-pods}
spec: {hard: {pods: "0"}}
""")
    lab.wait("no-pods", podlab.satisfies(lambda q: "pods" in (q.get("status") or {}).get("hard", {}), "counted"),
             kind="ResourceQuota", timeout=30)
    with pytest.raises(podlab.ApiRejected) as caught:
        lab.apply(pod("refused", "sleep 1"))
    print(caught.value)
    assert (caught.value.code, caught.value.reason) == (403, "Forbidden")
    assert 'pods "refused" is forbidden: exceeded quota: no-pods' in caught.value.message
    assert caught.value.hint.startswith("A ResourceQuota in the namespace refused it")


def test_dry_run_returns_the_defaulted_object_and_stores_nothing(lab):
    manifest = pod("dry", "sleep 3600").replace("    imagePullPolicy: IfNotPresent\n", "").replace(
        LAB_IMAGE, "docker.io/library/busybox:latest")
    stored = lab.apply(manifest, dry_run=True)
    assert stored[0]["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    assert stored[0]["spec"]["containers"][0]["terminationMessagePath"] == "/dev/termination-log"
    with pytest.raises(PodlabError, match="not found"):
        lab.pod("dry")


def test_attach_types_into_a_terminal_and_into_a_pipe(lab):
    shells = """
apiVersion: v1
kind: Pod
metadata:
  name: shells
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: terminal, image: %(image)s, imagePullPolicy: IfNotPresent, command: [sh], stdin: true, tty: true}
  - {name: pipe, image: %(image)s, imagePullPolicy: IfNotPresent, command: [sh], stdin: true}
  - {name: deaf, image: %(image)s, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
""" % {"image": LAB_IMAGE}
    lab.apply(shells)
    lab.wait("shells", podlab.ready)
    on_terminal = lab.attach("shells", "echo $((6*7))\n", until="42\r\n", container="terminal")
    assert on_terminal.startswith("echo $((6*7))\r\n42\r\n")  # the terminal echoes what was typed
    assert lab.attach("shells", "echo $((6*7)); echo end\n", until="end\n", container="pipe",
                      tty=False) == "42\nend\n"
    # a container that does not read stdin: the wait for the answer ends with what was seen
    with pytest.raises(PodlabError, match=r"did not appear within 2s"):
        lab.attach("shells", "echo hi\n", until="hi", container="deaf", tty=False, timeout=2)
    assert lab.pod("shells").status.containerStatuses[0].restartCount == 0  # detaching kept it running


def test_api_fields_reads_the_servers_schema():
    fields = podlab.api_fields("PodSpec")
    assert "shareProcessNamespace" in fields and "containers" in fields
    assert "Share a single process namespace" in fields["shareProcessNamespace"]
    assert "readinessProbe" in podlab.api_fields("Container")
    with pytest.raises(PodlabError, match="types named 'NoSuchType'"):
        podlab.api_fields("NoSuchType")


def test_wait_for_log_follows_until_the_text_and_times_out_with_the_tail(lab):
    lab.apply(pod("talker", "for i in 1 2 3; do echo line $i; sleep 1; done; sleep 3600"))
    lab.wait("talker", podlab.ready)
    assert "line 3" in lab.wait_for_log("talker", "line 3")
    with pytest.raises(WaitTimeout, match=r"(?s)'never' did not appear.*\| line 3"):
        lab.wait_for_log("talker", "never", timeout=2)


def test_processes_and_wait_for_event(lab):
    lab.apply(pod("ps", "sleep 3600"))
    lab.wait("ps", podlab.ready)
    seen = lab.processes("ps")
    assert [(p.pid, p.args) for p in seen] == [(1, "sleep 3600")]  # ps itself is left out
    assert seen[0].user == "root"
    started = lab.wait_for_event("ps", "Started")
    assert (started.involvedObject.name, started.reason) == ("ps", "Started") and started.message
    with pytest.raises(WaitTimeout):
        lab.wait_for_event("ps", "NoSuchReason", timeout=2)


@pytest.mark.timed  # it bounds how long a delete that does not wait takes: make test runs it alone
def test_request_returns_what_the_server_says_and_delete_can_return_at_once(lab, tmp_path):
    broken = tmp_path / "no-selector.yaml"   # what `kubectl create` would POST for a Deployment without a selector
    broken.write_text("kind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n"
                      "      labels: {app: web}\n    spec:\n      containers: [{name: web, image: x}]\n")
    reply = lab.request("POST", "/apis/apps/v1/namespaces/{namespace}/deployments", broken)
    assert reply.status == 422 and "spec.selector: Required value" in reply.message
    reply = lab.request("GET", "/apis/extensions/v1beta1/namespaces/{namespace}/deployments")
    assert reply.status == 404
    lab.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "slow-stop"},
               "spec": {"terminationGracePeriodSeconds": 30,
                        "containers": [{"name": "app", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
                                        "command": ["sleep", "3600"]}]}})
    lab.wait("slow-stop", ready)
    started = time.monotonic()
    assert lab.delete("slow-stop", grace_period=3, wait=False) == ["pod/slow-stop"]
    assert time.monotonic() - started < 2          # returned before the 3 s grace period ended
    assert lab.pod("slow-stop").metadata.deletionGracePeriodSeconds == 3
    lab.wait("slow-stop", deleted, timeout=30)
