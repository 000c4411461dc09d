"""Time `podlab up` cold (build everything), warm (cached binaries), after a crash, and `podlab down`.

    python benchmarks/cluster_up.py                 # warm up and down, crash recovery: 3 rounds each
    python benchmarks/cluster_up.py --cold 1        # also cold ups: empty podlab, Go build and module caches

A cold run points PODLAB_CACHE, GOCACHE and GOMODCACHE at fresh temporary directories, so
it downloads every module and compiles every binary, like a first run on a new machine.
A crash kills every process of the cluster with SIGKILL (keepers, containerd, the kubelet,
shims and pods), as happens when a session ends, and leaves mounts, network and files behind.
Prints each measurement and the median of each kind; leaves the cluster running, like `make test`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PODLAB = str(Path(sys.executable).with_name("podlab"))


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Run a command to completion and return its wall-clock seconds; fail loudly."""
    started = time.monotonic()
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed


def crash() -> int:
    """SIGKILL every process of the local cluster (keepers, containerd, kubelet, shims, pods)."""
    from podlab.cluster.local import host
    from podlab.cluster.local.layout import default_layout

    return host.kill_cluster_processes(default_layout())


def report(name: str, values: list[float]) -> None:
    shown = ", ".join(f"{v:.1f}" for v in values)
    print(f"{name}: median {statistics.median(values):.1f} s  (runs: {shown})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=0, metavar="N", help="cold ups with empty caches (default 0)")
    parser.add_argument("--rounds", type=int, default=3, help="warm up/down and crash rounds (default 3)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB", flush=True)
    timed([PODLAB, "up", "--provider", "local"])  # make sure something is cached and running
    cold, downs, warm, recovered = [], [], [], []
    for _ in range(args.cold):
        scratch = Path(tempfile.mkdtemp(prefix="podlab-cold-"))
        env = dict(os.environ, PODLAB_CACHE=str(scratch / "podlab"), GOCACHE=str(scratch / "gocache"),
                   GOMODCACHE=str(scratch / "gomod"))
        downs.append(timed([PODLAB, "down"], env))
        cold.append(timed([PODLAB, "up", "--provider", "local"], env))
        print(f"cold up (module download + build + images + start): {cold[-1]:.1f} s", flush=True)
        downs.append(timed([PODLAB, "down"], env))
        subprocess.run(["chmod", "-R", "u+w", str(scratch)], check=False)  # Go makes module files read-only
        shutil.rmtree(scratch, ignore_errors=True)
        timed([PODLAB, "up", "--provider", "local"])
    dns = []
    for _ in range(args.rounds):
        downs.append(timed([PODLAB, "down"]))
        warm.append(timed([PODLAB, "up", "--provider", "local"]))
        # `up` returns once pods can run; cluster DNS follows (open_lab waits for it).
        dns.append(timed([PODLAB, "kubectl", "-n", "kube-system", "wait", "--for=condition=Available",
                          "deployment/coredns", "--timeout=120s"]))
        print(f"down {downs[-1]:.1f} s, warm up {warm[-1]:.1f} s, then cluster DNS available {dns[-1]:.1f} s later",
              flush=True)
    for _ in range(args.rounds):
        killed = crash()
        recovered.append(timed([PODLAB, "up", "--provider", "local"]))
        print(f"up after a crash ({killed} processes killed): {recovered[-1]:.1f} s", flush=True)
    again = [timed([PODLAB, "up"]) for _ in range(args.rounds)]
    if cold:
        report("cold up", cold)
    report("warm up (cached binaries and images)", warm)
    report("cluster DNS available, after up returned", dns)
    report("up after a crash, clean-up included", recovered)
    report("down", downs)
    report("up when already running", again)


if __name__ == "__main__":
    main()
