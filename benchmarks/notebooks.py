"""Wall time of each chapter and lab, next to the waits Kubernetes itself imposes in it.

Each notebook runs top to bottom in a fresh kernel, from a scratch copy (the committed file
is never rewritten), on the lab cluster `podlab up` recorded. The imposed waits are what the
notebook cannot go faster than whatever podlab does: grace periods it waits out, probe
periods, back-offs, bounds it deliberately sits through. The rest is pod start-up, execs and
API round trips, which podlab's helpers are responsible for.

    python benchmarks/notebooks.py [--nbval] [book/01-what-a-container-knows.ipynb ...]

With --nbval, each notebook runs as CI runs it instead (pytest --nbval, comparing the stored
outputs) and a failed comparison is reported next to its time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

# Waits Kubernetes imposes in each notebook, in seconds, with where they come from. Chapters
# whose pods trap SIGTERM and use no probes impose none.
IMPOSED = {
    "book/01-what-a-container-knows.ipynb": (0.0, "none: every pod exits on SIGTERM at once; "
                                                   "the label update and DNS waits are event-driven"),
    "book/02-the-pod.ipynb": (10.0, "one 10 s crash-loop back-off: the two crash-looping pods "
                                    "(run in parallel) show CrashLoopBackOff only as their first "
                                    "back-off ends; no grace period or probe is waited out"),
    "book/03-lifecycle-hooks.ipynb": (15.0, "a hanging preStop killed at its 3 s grace period plus the "
                                            "kubelet's 2 s minimum, a 5 s postStart hook, a 2 s sleep "
                                            "action, the Job's 3 s of start-up work"),
    "book/04-stopping-and-starting.ipynb": (48.5, "the 30 s default grace period of a PID 1 without a handler "
                                                   "(the SIGTERM, longer/second-delete and force-delete "
                                                   "demonstrations run inside it: 4 s, 8 s and 10 s in "
                                                   "parallel, 2 s), a 2 s preStop drain, the termination "
                                                   "measurement's 5.5 s (2.5 s preStop, then 3 s to SIGKILL), "
                                                   "the failing init containers' first 10 s back-off (the "
                                                   "annotation, sh without -c, init-order and sidecar "
                                                   "demonstrations inside it), 1 s of a client's polling for "
                                                   "a Service"),
    "book/05-probes.ipynb": (38.0, "the liveness pod's life until its 4th start, 26 s (3 s initial delay, up to "
                                   "1 s less, 2 x 1 s failures per run, its probe's 2 s grace, one 10 s back-off), "
                                   "with the container-level restartPolicy pod and the 9-13 s probe measurement "
                                   "inside it; the handler pod's 1 s initial delay and periods (3 s); the "
                                   "Deployment's 3 s start, 1 s startup period and 2 s readiness period out and "
                                   "back (8 s); gRPC 1 s periods (1 s)"),
    "book/06-the-control-plane.ipynb": (5.0, "the namespace controller's 5 s before it acts on the deleted held "
                                             "namespace; no grace period is waited out (every pod exits on "
                                             "SIGTERM at once) and the emptyDir pod's first restart has no back-off"),
    "book/07-nodes-and-scheduling.ipynb": (120.0, "the real node's Lease and Node watched for 60 s; a silenced fake "
                                                  "node's 50 s node-monitor grace period before Ready turns Unknown "
                                                  "(read from the controller manager, checked every 5 s); the 10 s "
                                                  "tolerationSeconds of the pod evicted from it"),
    "book/08-services-and-the-kubelet.ipynb": (110.0, "the deleted mirror pod's return at the kubelet's next "
                                                      "periodic sync (syncFrequency 1 min plus up to 50% "
                                                      "jitter: 60-90 s); the chapter's own bounded "
                                                      "observations: 20 s of a LoadBalancer Service without a "
                                                      "controller, 30 s of a hung app without a liveness probe"),
    "labs/02-pod-basics.ipynb": (20.0, "two 10 s crash-loop back-offs: exercise 4's crash-looping "
                                       "pod shows CrashLoopBackOff only as its first back-off ends, "
                                       "and the back-off follow-up measures one"),
    "labs/03-lifecycle-hooks.ipynb": (10.0, "a 2 s postStart preparation, one drained 4 s job, a "
                                            "liveness kill (2 s healthy, a 1 s probe period, a 1 s hook)"),
    "labs/04-stopping-and-starting.ipynb": (5.0, "exercise 1's starter: a 2 s grace period before SIGKILL; "
                                                   "up to 3 s for the follow-up's batch to finish after its "
                                                   "delete (exercise 2's starter fails at its first restart, "
                                                   "exercise 3's before any pod runs)"),
    "labs/05-probes.ipynb": (30.0, "9 s: a slow starter's 8 s load and 1 s startup period (the starter's "
                                   "liveness kill inside it); 7 s: exercise 2's starter sitting out its 6 s "
                                   "readiness bound plus a 1 s period; up to 14 s: exercise 3's liveness kill "
                                   "(the page goes at 5 s, then 3 failures 3 s apart)"),
    "labs/07-nodes-and-scheduling.ipynb": (65.0, "exercise 3's starter check: the silenced fake node's 50 s "
                                                 "node-monitor grace period before the node controller taints it "
                                                 "unreachable (checked every 5 s), then the check's 15 s (the "
                                                 "starter's unreachable toleration is 300 s) sat out"),
    "labs/06-the-control-plane.ipynb": (49.0, "the namespace controller's 5 s before it starts on the deleted "
                                              "held namespace (exercise 4's diagnosis); exercise 4's starter "
                                              "check sitting out its 30 s bound; exercise 5's Background and "
                                              "Foreground pods' 3 s grace periods (their app ignores SIGTERM); "
                                              "at close, up to 8 s until the namespace controller looks again "
                                              "at the released held namespace (15 s / 2 + 1)"),
    "labs/01-downward-api.ipynb": (30.0, "exercise 6's stored starter check sits out its 30 s DNS "
                                         "bound (podlab's choice; upstream promises none)"),
}


def run(relative: str) -> float:
    """Execute one notebook from a scratch copy of its folder; return the wall time in seconds."""
    source = ROOT / relative
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(source.parent, scratch, dirs_exist_ok=True)
        notebook = nbformat.read(Path(scratch) / source.name, as_version=4)
        started = time.monotonic()
        NotebookClient(notebook, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": scratch}}).execute()
        return time.monotonic() - started


def run_nbval(relative: str) -> tuple[float, str]:
    """Run one notebook under nbval as CI does; return the wall time and pytest's last line."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", relative], cwd=ROOT, capture_output=True,
                            text=True)
    lines = result.stdout.strip().splitlines()
    return time.monotonic() - started, (lines[-1] if lines else f"exit {result.returncode}")


def main(args: list[str]) -> None:
    """Print one line per notebook: wall time, imposed waits, the rest, and their ratio."""
    nbval = "--nbval" in args
    paths = [a for a in args if a != "--nbval"]
    print(f"{'notebook':42} {'wall':>8} {'imposed':>8} {'rest':>8} {'ratio':>6}  imposed waits")
    for relative in paths or sorted(IMPOSED):
        outcome = ""
        if nbval:
            wall, outcome = run_nbval(relative)
            outcome = f"  [nbval: {outcome}]"
        else:
            wall = run(relative)
        imposed, why = IMPOSED.get(relative, (0.0, "not declared in benchmarks/notebooks.py"))
        ratio = f"{wall / imposed:5.2f}" if imposed else "    -"
        print(f"{relative:42} {wall:7.1f}s {imposed:7.1f}s {wall - imposed:7.1f}s {ratio}  {why}{outcome}")


if __name__ == "__main__":
    main(sys.argv[1:])
