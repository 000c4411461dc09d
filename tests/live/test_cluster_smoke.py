"""The lab cluster really behaves like Kubernetes: the foundation every lab relies on.

Each test creates pods in its own lab namespace and observes the kubelet's behaviour.
"""

from __future__ import annotations

import pytest
import yaml

from podlab.conditions import not_ready, ready, restarted, satisfies
from podlab.images import LAB_IMAGE

pytestmark = pytest.mark.live

SLEEPER = "trap 'exit 0' TERM; while true; do sleep 1; done"


def pod(name: str, *, labels: dict | None = None, **container: object) -> dict:
    """A one-container pod running the lab image."""
    spec = {"name": "main", "image": LAB_IMAGE, "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", SLEEPER], **container}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": name}},
            "spec": {"terminationGracePeriodSeconds": 2, "containers": [spec]}}


def test_downward_api_volume_shows_the_pod_labels(lab):
    manifest = pod("labels", labels={"zone": "us-east", "app": "labels"},
                   volumeMounts=[{"name": "podinfo", "mountPath": "/etc/podinfo"}])
    manifest["spec"]["volumes"] = [{"name": "podinfo", "downwardAPI": {
        "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}]
    lab.apply(manifest)
    lab.wait("labels", ready)
    assert lab.read_file("labels", "/etc/podinfo/labels").splitlines() == ['app="labels"', 'zone="us-east"']


def test_post_start_exec_hook_runs_in_the_container(lab):
    lab.apply(pod("hooked", lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "echo started > /tmp/hook"]}}}))
    lab.wait("hooked", ready)
    assert lab.read_file("hooked", "/tmp/hook") == "started\n"


def test_failing_liveness_probe_restarts_the_container_and_a_healthy_one_does_not(lab):
    probe = {"periodSeconds": 1, "failureThreshold": 1, "initialDelaySeconds": 1}
    lab.apply(pod("sick", livenessProbe={"exec": {"command": ["false"]}, **probe}))
    # the healthy pod's `true` may take more than the default 1 s timeout on a loaded node: give it room
    lab.apply(pod("healthy", livenessProbe={"exec": {"command": ["true"]}, **probe, "timeoutSeconds": 5,
                                            "failureThreshold": 3}))
    lab.wait("sick", restarted(1), timeout=90)
    assert lab.pod("healthy").status.containerStatuses[0].restartCount == 0
    assert any(e.reason == "Unhealthy" for e in lab.events("sick"))


def _endpoint_state(endpoint_slice: dict, pod_name: str) -> bool | None:
    """Whether the pod's endpoint in this EndpointSlice is ready (None: not listed)."""
    for endpoint in endpoint_slice.get("endpoints") or []:
        if (endpoint.get("targetRef") or {}).get("name") == pod_name:
            return bool(endpoint["conditions"].get("ready"))
    return None


def test_pod_failing_readiness_leaves_its_services_endpoints(lab):
    lab.apply(pod("web", labels={"app": "web"},
                  readinessProbe={"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 1},
                  lifecycle={"postStart": {"exec": {"command": ["touch", "/tmp/ready"]}}}))
    lab.apply(yaml.safe_load("""
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {selector: {app: web}, ports: [{port: 80}]}
    """))
    lab.wait("web", ready)
    assert _wait_endpoint(lab, "web", "web", ready=True)
    lab.exec("web", ["rm", "/tmp/ready"])
    lab.wait("web", not_ready, timeout=60)
    assert _wait_endpoint(lab, "web", "web", ready=False)
    lab.exec("web", ["touch", "/tmp/ready"])
    lab.wait("web", ready, timeout=60)
    assert _wait_endpoint(lab, "web", "web", ready=True)


def _wait_endpoint(lab, service: str, pod_name: str, *, ready: bool) -> bool:
    """Watch the Service's EndpointSlices until the pod's endpoint has the wanted readiness."""
    from podlab import waiting
    found = waiting.wait_for_objects(
        lab.namespace, "EndpointSlice", f"kubernetes.io/service-name={service}",
        lambda slices: any(_endpoint_state(s, pod_name) == ready for s in slices),
        api_version="discovery.k8s.io/v1", description=f"endpoint of {pod_name} ready={ready}", timeout=60)
    return found is not None


def test_exec_and_logs(lab):
    lab.apply(pod("talker", command=["sh", "-c", "echo hello from the log; " + SLEEPER]))
    lab.wait("talker", ready)
    result = lab.exec("talker", ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 3)
    assert "hello from the log" in lab.logs("talker")


def test_deployment_replaces_a_deleted_pod(lab):
    lab.apply(yaml.safe_load(f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: keeper}}
        spec:
          replicas: 1
          selector: {{matchLabels: {{app: keeper}}}}
          template:
            metadata: {{labels: {{app: keeper}}}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - {{name: main, image: "{LAB_IMAGE}", imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}}
    """))
    available = satisfies(lambda d: (d.get("status") or {}).get("availableReplicas") == 1, "1 available")
    lab.wait("keeper", available, kind="Deployment", api_version="apps/v1")
    first = _pods_of(lab, "keeper")
    assert len(first) == 1
    lab.delete(first[0])
    lab.wait("keeper", available, kind="Deployment", api_version="apps/v1")
    second = _pods_of(lab, "keeper")
    assert len(second) == 1 and second != first


def _pods_of(lab, app: str) -> list[str]:
    from kubernetes import client
    pods = client.CoreV1Api(lab.api).list_namespaced_pod(lab.namespace, label_selector=f"app={app}")
    return [p.metadata.name for p in pods.items if p.metadata.deletion_timestamp is None]


def test_namespace_deletion_completes(live_cluster):
    from kubernetes import client
    from podlab.session import open_lab

    lab = open_lab("t-namespace-deletion")
    lab.apply(pod("doomed"))
    lab.wait("doomed", ready)
    lab.close()
    names = [n.metadata.name for n in client.CoreV1Api(live_cluster).list_namespace().items]
    assert lab.namespace not in names


def test_cluster_dns_and_service_ip_reach_the_api_server(lab):
    lab.apply(pod("dns"))
    lab.wait("dns", ready)
    answer = lab.exec("dns", ["nslookup", "kubernetes.default.svc.cluster.local"])
    assert answer.exit_code == 0 and "10.96.0.1" in answer.stdout
    # kube-proxy's rules carry the ClusterIP to the API server (401/403 is an answer from it).
    probe = lab.exec("dns", ["sh", "-c", "nc -w 3 10.96.0.1 443 </dev/null && echo open"])
    assert "open" in probe.stdout
