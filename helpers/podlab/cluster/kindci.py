"""The book on kind, on our VMs: `python -m podlab.cluster.kindci [PYTEST ARGS…]` (`make test-kind`).

1. starts podlab's own Docker engine (podlab.cluster.dockerd) and points the docker CLI at it;
2. builds kind v0.33.0 and the node image (podlab.cluster.kindnode), both cached;
3. `podlab up --provider kind` with PODLAB_KIND_NODE_IMAGE=build, then writes back the host
   sysctls the node's systemd changed;
4. runs pytest (default: the notebooks under nbval and the exercise tests) against it, with
   PODLAB_REQUIRE_CLUSTER=1 so that a cluster that cannot be reached fails, never skips;
5. runs tests/live/test_kind_down.py, which brings the cluster down and checks that no kind
   container, network or volume is left; then stops the engine and restores the host.

Each step's wall time is printed at the end. The local cluster is not touched; if both run on
one machine, the kind run's `podlab up` records kind as the active cluster (~/.kube/podlab.json),
so run this with a HOME of its own when others use the local cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from . import dockerd, kindnode
from .kind import NODE_IMAGE_ENV

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_TESTS = ["book", "labs", "tests/live/test_exercises.py"]


def timed(timings: list, what: str, fn):
    started = time.monotonic()
    try:
        return fn()
    finally:
        timings.append((what, time.monotonic() - started))


def main(argv: list[str]) -> int:
    timings: list[tuple[str, float]] = []
    env_before = dict(os.environ)
    status = 1
    try:
        os.environ.update(timed(timings, "start podlab's dockerd", dockerd.start))
        kind = timed(timings, "kind v0.33.0 (build or cache)", kindnode.kind_binary)
        os.environ["PATH"] = f"{kind.parent}:{os.environ['PATH']}"
        ref = timed(timings, "node image (build or cache, docker import)", kindnode.ensure_image)
        print(f"kindci: node image {ref}", file=sys.stderr)
        os.environ[NODE_IMAGE_ENV] = ref
        podlab = [sys.executable, "-m", "podlab.cli"]
        up = timed(timings, "podlab up --provider kind", lambda: subprocess.run([*podlab, "up", "--provider", "kind"]))
        for name, (found, value) in dockerd.restore_host().items():
            print(f"kindci: restored {name}: {found} -> {value}", file=sys.stderr)
        if up.returncode != 0:
            return up.returncode
        env = {**os.environ, "PODLAB_REQUIRE_CLUSTER": "1"}
        tests = timed(timings, "pytest on kind", lambda: subprocess.run(
            [sys.executable, "-m", "pytest", *(argv or DEFAULT_TESTS)], cwd=ROOT, env=env))
        down = timed(timings, "podlab down on kind (tests/live/test_kind_down.py)", lambda: subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
             "tests/live/test_kind_down.py"], cwd=ROOT, env={**env, "PODLAB_KIND_DOWN_TEST": "1"}))
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
