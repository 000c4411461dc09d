"""The book on kind, on our VMs: `python -m podlab.cluster.kindci [PYTEST ARGS…]` (`make test-kind`,
and the kind part of `make test`). `--prepare` only builds kind and the node image's own parts.

1. starts podlab's own Docker engine (podlab.cluster.dockerd) and points the docker CLI at it;
2. builds kind v0.33.0 and the node image (podlab.cluster.kindnode), both cached;
3. deletes the podlab kind cluster if an earlier, killed run left one, then `podlab up --provider
   kind` with PODLAB_KIND_NODE_IMAGE=build, then writes back the host sysctls the node's systemd
   changed;
4. runs pytest (default: the notebooks of KIND_CHAPTERS under nbval, side by side as `make test`
   runs them, `scripts/run_tests.py --staged`, then each exercise's solution; or the paths given)
   against it, with PODLAB_REQUIRE_CLUSTER=1 so that a cluster that cannot be reached fails,
   never skips;
5. runs tests/live/test_kind_provider.py (`podlab doctor` with and without kind, the versions a
   lab names) and tests/live/test_kind_down.py, which brings the cluster down and checks that no
   kind container, network or volume is left; then stops the engine and restores the host.

Each step's wall time is printed at the end. The local cluster is not touched: the kind run keeps
its kubeconfig and its active-cluster record apart (PODLAB_KUBECONFIG, default
`<podlab cache>/kind/podlab.config`, so the record is `podlab.json` next to it), and KUBECONFIG is
unset for it, so ~/.kube/podlab.config and ~/.kube/podlab.json stay the local cluster's. `make test`
runs this after the local part; a step that cannot start fails the run, it is never skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .. import paths
from . import dockerd, kindnode
from .kind import NODE_IMAGE_ENV, kind_dir

ROOT = Path(__file__).resolve().parents[3]
# The chapters and labs proven on kind; a new chapter joins the kind run when it has passed there.
KIND_CHAPTERS = ("01", "02", "03", "04", "05", "06", "07", "08")


# On kind, each exercise's solution must pass: it runs on kind's node (its CNI, runtime
# configuration, cgroup driver). That each starter fails for its named reason, the reader flow and
# the progress recording are proven by the local part: a starter fails on what its manifest says, and
# the labs' notebooks, which show each starter failing, run on kind as well. (CI budget: the starters
# and the rest took about half of the kind part's 8 minutes of exercise tests.)
EXERCISES_ON_KIND = "tests/live/test_exercises.py::test_solution_passes"


def default_tests() -> list[str]:
    """The notebooks of KIND_CHAPTERS (book and labs) under nbval, and each exercise's solution."""
    notebooks = sorted(str(p.relative_to(ROOT)) for folder in ("book", "labs") for n in KIND_CHAPTERS
                       for p in (ROOT / folder).glob(f"{n}-*.ipynb"))
    return [*notebooks, EXERCISES_ON_KIND]


def test_command(argv: list[str]) -> list[str]:
    """pytest on the paths in argv; without paths, the default tests staged as make test stages them."""
    if any(not a.startswith("-") and (ROOT / a.split("::")[0]).exists() for a in argv):
        return [sys.executable, "-m", "pytest", *argv]
    # notebooks side by side, the timing ones (run_tests.ALONE) and the exercise tests one at a time
    return [sys.executable, str(ROOT / "scripts" / "run_tests.py"), "--staged", *default_tests(), *argv]


# After a failed pytest on kind, the control plane's own account: what the CI output keeps of a run is
# its head and its tail, so these lines are printed last. (The node lifecycle controller's
# "Update health of Node from Controller error" lines explained chapter 7's fake node that never
# turned Unknown.)
REPORTED_ERROR_LINES = 8


def control_plane_report(since_seconds: int) -> list[str]:
    """Each kube-system pod's restarts and the control plane's last error lines of the last since_seconds."""
    from kubernetes import client

    from .._api import request_json
    from ..connect import connect
    from ..timeouts import API_CONNECT, API_REQUEST

    api = connect()
    lines = []
    for pod in request_json(api, "GET", "/api/v1/namespaces/kube-system/pods").get("items") or []:
        name = pod["metadata"]["name"]
        status = pod.get("status") or {}
        statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
        restarts = sum(s.get("restartCount", 0) for s in statuses)
        last = [((s.get("lastState") or {}).get("terminated") or {}).get("reason") for s in statuses]
        if restarts:
            lines.append(f"{name}: {restarts} restart(s), last terminated: {', '.join(r for r in last if r) or '-'}")
        if (pod["metadata"].get("labels") or {}).get("tier") != "control-plane" and not name.startswith("kwok-controller"):
            continue
        for previous in (True, False) if restarts else (False,):   # the instance that stopped, then this one
            try:
                log = client.CoreV1Api(api).read_namespaced_pod_log(
                    name, "kube-system", since_seconds=since_seconds, previous=previous,
                    _preload_content=False, _request_timeout=(API_CONNECT, API_REQUEST)).data.decode("utf-8", "replace")
            except Exception as error:  # a container not started, a kubelet that does not answer
                said = " ".join(str(part) for part in (getattr(error, "status", None), getattr(error, "reason", None))
                                if part) or str(error).splitlines()[0]
                lines.append(f"{name}: could not read the {'previous ' if previous else ''}log: {said}")
                continue
            errors = [line for line in log.splitlines()
                      if line.startswith(("E", "F")) or '"level":"error"' in line.lower()]   # klog; JSON (KWOK, etcd)
            lines += [f"{name}{' (previous)' if previous else ''}: {line[:400]}" for line in errors[-REPORTED_ERROR_LINES:]]
    return lines


def timed(timings: list, what: str, fn):
    started = time.monotonic()
    try:
        return fn()
    finally:
        timings.append((what, time.monotonic() - started))


def prepare() -> int:
    """`--prepare`: build kind and the node image's own parts only (no engine, no cluster)."""
    for what, seconds in kindnode.prepare().items():
        print(f"kindci --prepare: {what}: {seconds:.1f} s", file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--prepare"]:
        return prepare()
    timings: list[tuple[str, float]] = []
    env_before = dict(os.environ)
    status = 1
    report: list[str] = []
    try:
        os.environ.pop("KUBECONFIG", None)
        os.environ.setdefault("PODLAB_KUBECONFIG", str(kind_dir() / "podlab.config"))
        print(f"kindci: kubeconfig {paths.kubeconfig_path()}", file=sys.stderr)
        os.environ.update(timed(timings, "start podlab's dockerd", dockerd.start))
        kind = timed(timings, "kind v0.33.0 (build or cache)", kindnode.kind_binary)
        os.environ["PATH"] = f"{kind.parent}:{os.environ['PATH']}"
        ref = timed(timings, "node image (build or cache, docker import)", kindnode.ensure_image)
        print(f"kindci: node image {ref}", file=sys.stderr)
        os.environ[NODE_IMAGE_ENV] = ref
        podlab = [sys.executable, "-m", "podlab.cli"]
        # CI starts from a new cluster: one that exists now was left by a run that was killed
        # (its node may be stopped, its namespaces half-deleted), and is no reader's.
        from .kind import CLUSTER, KindProvider
        if CLUSTER in KindProvider().clusters():
            print(f"kindci: deleting the kind cluster '{CLUSTER}' an earlier run left", file=sys.stderr)
            timed(timings, "delete the cluster an earlier run left",
                  lambda: subprocess.run([*podlab, "down", "--provider", "kind"], check=True))
        up = timed(timings, "podlab up --provider kind", lambda: subprocess.run([*podlab, "up", "--provider", "kind"]))
        for name, (found, value) in dockerd.restore_host().items():
            print(f"kindci: restored {name}: {found} -> {value}", file=sys.stderr)
        if up.returncode != 0:
            return up.returncode
        env = {**os.environ, "PODLAB_REQUIRE_CLUSTER": "1", "PODLAB_KIND_RUN": "1"}
        started = time.monotonic()
        tests = timed(timings, "pytest on kind", lambda: subprocess.run(test_command(argv), cwd=ROOT, env=env))
        if tests.returncode != 0:
            try:
                report = control_plane_report(int(time.monotonic() - started) + 1) or ["(no restarts, no error lines)"]
            except Exception as error:  # the report only explains; the run goes on
                report = [f"could not read the control plane: {error}"]
        # The provider as a reader meets it (doctor, versions), then `podlab down` and what it leaves.
        down = timed(timings, "kind provider tests and podlab down (tests/live/test_kind_*.py)",
                     lambda: subprocess.run(
                         [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-v",
                          "tests/live/test_kind_provider.py", "tests/live/test_kind_down.py"],
                         cwd=ROOT, env={**env, "PODLAB_KIND_DOWN_TEST": "1"}))
        status = tests.returncode or down.returncode
        return status
    finally:
        try:
            # A run that stopped early leaves its cluster: take it down before the engine stops.
            from .kind import CLUSTER, KindProvider
            if dockerd.server_version() and CLUSTER in KindProvider().clusters():
                subprocess.run([sys.executable, "-m", "podlab.cli", "down", "--provider", "kind"])
        except Exception as error:  # the engine's stop below still runs
            print(f"kindci: could not take the kind cluster down: {error}", file=sys.stderr)
        try:
            for name, (found, value) in dockerd.stop().items():
                print(f"kindci: restored {name}: {found} -> {value}", file=sys.stderr)
        finally:
            os.environ.clear()
            os.environ.update(env_before)
            print("\nkindci timings:", file=sys.stderr)
            for what, seconds in timings:
                print(f"  {what}: {seconds:.1f} s", file=sys.stderr)
            if report:
                print("\nkindci: pytest on kind failed; the control plane (kube-system restarts, last error lines):",
                      file=sys.stderr)
                for line in report:
                    print(f"  {line}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
