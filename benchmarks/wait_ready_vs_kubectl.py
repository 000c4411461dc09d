"""How soon after a pod turns Ready do podlab's wait (condition ready) and `kubectl wait` return?

Method (same pods, same run): each pod has a readiness probe `test -f /tmp/ready`
(period 1 s). For one pod at a time, three observers start while it is still not ready:
  - podlab:  podlab.waiting.wait_until(..., ready) in a thread,
  - kubectl: `kubectl wait --for=condition=Ready pod/<name>` as a subprocess,
  - event:   a bare watch (kubernetes.watch) noting when the Ready=True update arrives.
After a settle delay (so every observer has its watch open), the file is created by exec
at time t0 ("the flip"). Each observer's return time is recorded relative to t0. The
probe period makes the event itself arrive 0–1 s after the flip; what matters is how far
behind the event each waiter returns, so both columns are also shown as lag behind it.

    python benchmarks/wait_ready_vs_kubectl.py [--pods 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import threading
import time

from kubernetes import client, watch

from podlab.conditions import in_phase, ready
from podlab.connect import connect
from podlab.images import LAB_IMAGE
from podlab.paths import kubeconfig_path
from podlab.pods import exec_in_pod
from podlab.session import open_lab
from podlab.waiting import wait_until

SETTLE_SECONDS = 3.0
TIMEOUT = 60

POD = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: "{image}"
    imagePullPolicy: IfNotPresent
    command: [sleep, "3600"]
    readinessProbe:
      exec: {{command: [test, -f, /tmp/ready]}}
      periodSeconds: 1
      failureThreshold: 1
"""


def ready_event_time(namespace: str, name: str, started: threading.Event, out: dict) -> None:
    """The moment the Ready=True update reaches a bare watch on the pod."""
    core = client.CoreV1Api(client.ApiClient(connect().configuration))
    listed = core.list_namespaced_pod(namespace, field_selector=f"metadata.name={name}")
    started.set()
    for event in watch.Watch().stream(core.list_namespaced_pod, namespace,
                                      field_selector=f"metadata.name={name}",
                                      resource_version=listed.metadata.resource_version,
                                      timeout_seconds=TIMEOUT):
        conditions = event["object"].status.conditions or []
        if any(c.type == "Ready" and c.status == "True" for c in conditions):
            out["event"] = time.monotonic()
            return


def measure(namespace: str, name: str) -> dict[str, float]:
    """Start the three observers, flip readiness, and return each one's time after the flip."""
    times: dict[str, float] = {}
    watching = threading.Event()
    observer = threading.Thread(target=ready_event_time, args=(namespace, name, watching, times))
    observer.start()

    def podlab_wait() -> None:
        wait_until(namespace, name, ready, timeout=TIMEOUT)
        times["podlab"] = time.monotonic()

    waiter = threading.Thread(target=podlab_wait)
    waiter.start()
    kubectl = subprocess.Popen(["kubectl", "--kubeconfig", str(kubeconfig_path()), "-n", namespace,
                                "wait", "--for=condition=Ready", f"pod/{name}", f"--timeout={TIMEOUT}s"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def kubectl_wait() -> None:
        kubectl.wait()
        times["kubectl"] = time.monotonic()

    reaper = threading.Thread(target=kubectl_wait)
    reaper.start()
    watching.wait(TIMEOUT)
    time.sleep(SETTLE_SECONDS)  # let podlab and kubectl open their watches before the flip

    flip = time.monotonic()
    result = exec_in_pod(namespace, name, ["touch", "/tmp/ready"])
    assert result.exit_code == 0, result
    for thread in (observer, waiter, reaper):
        thread.join(TIMEOUT + 10)
    if kubectl.returncode != 0:
        raise SystemExit(f"kubectl wait failed: {kubectl.stderr.read().decode()}")
    return {k: v - flip for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5)
    args = parser.parse_args()
    names = [f"bench-{i}" for i in range(args.pods)]
    rows = []
    with open_lab("bench-wait") as lab:
        lab.apply("---".join(POD.format(name=n, image=LAB_IMAGE) for n in names))
        for n in names:
            lab.wait(n, in_phase("Running"), timeout=TIMEOUT)
        for n in names:
            rows.append((n, measure(lab.namespace, n)))

    print("seconds after the flip (readiness file created):")
    print(f"{'pod':<10}{'event':>8}{'podlab':>9}{'kubectl':>9}   lag behind event: podlab  kubectl")
    for n, t in rows:
        print(f"{n:<10}{t['event']:8.3f}{t['podlab']:9.3f}{t['kubectl']:9.3f}"
              f"{t['podlab'] - t['event']:25.3f}{t['kubectl'] - t['event']:9.3f}")
    med = {k: statistics.median(t[k] for _, t in rows) for k in ("event", "podlab", "kubectl")}
    lag = {k: statistics.median(t[k] - t["event"] for _, t in rows) for k in ("podlab", "kubectl")}
    print(f"{'median':<10}{med['event']:8.3f}{med['podlab']:9.3f}{med['kubectl']:9.3f}"
          f"{lag['podlab']:25.3f}{lag['kubectl']:9.3f}")
    verdict = "not slower" if med["podlab"] <= med["kubectl"] else "SLOWER"
    print(f"podlab is {verdict} than kubectl wait: median {med['podlab']:.3f}s vs {med['kubectl']:.3f}s")


if __name__ == "__main__":
    main()
