"""Time `podlab up` cold (build everything), warm (cached binaries) and `podlab down`.

    python benchmarks/cluster_up.py            # warm up and down, twice each
    python benchmarks/cluster_up.py --cold     # also a cold up: empty podlab, Go build and module caches

A cold run points PODLAB_CACHE, GOCACHE and GOMODCACHE at fresh temporary directories, so
it downloads every module and compiles every binary, like a first run on a new machine.
Prints one line per measurement; leaves the cluster running, like `make test` does.
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="include a cold up with empty caches")
    parser.add_argument("--rounds", type=int, default=2, help="warm up/down rounds")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB")
    timed([PODLAB, "up", "--provider", "local"])  # make sure something is cached and running
    if args.cold:
        scratch = Path(tempfile.mkdtemp(prefix="podlab-cold-"))
        env = dict(os.environ, PODLAB_CACHE=str(scratch / "podlab"), GOCACHE=str(scratch / "gocache"),
                   GOMODCACHE=str(scratch / "gomod"))
        print(f"down: {timed([PODLAB, 'down'], env):.1f} s")
        print(f"cold up (module download + build + start): {timed([PODLAB, 'up', '--provider', 'local'], env):.1f} s")
        print(f"down: {timed([PODLAB, 'down'], env):.1f} s")
        subprocess.run(["chmod", "-R", "u+w", str(scratch)], check=False)  # Go makes module files read-only
        shutil.rmtree(scratch, ignore_errors=True)
        timed([PODLAB, "up", "--provider", "local"])
    for _ in range(args.rounds):
        print(f"down: {timed([PODLAB, 'down']):.1f} s")
        print(f"warm up (cached binaries and images): {timed([PODLAB, 'up', '--provider', 'local']):.1f} s")
    print(f"up when already running: {timed([PODLAB, 'up']):.1f} s")


if __name__ == "__main__":
    main()
