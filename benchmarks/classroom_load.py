"""Classroom mode under load: how long lab 1's checks take with 1, 4 and 8 students at once, and how
many students a node of this size holds under the quota and LimitRange `podlab classroom create` picks.

Part 1 makes a course of as many students as the largest level (`classroom.create`, with the
smallest whole --cpu-overcommit it accepts now, as tests/live/test_classroom_load.py does), then
for each level lets that many students (threads, each with their own kubeconfig and lab session)
check every lab 1 exercise's starter and then its solution at the same time, all in the same
order (test_classroom_load.solve_lab_1; the worst case, a class told "exercise 3 now": the live
test starts each student at another exercise instead), and prints each check's median and worst time per level. The
course is deleted at the end whatever happened.

Part 2 prints classroom's own sizing for the schedulable nodes as they are now (one node here):
the capacity, the labs' largest pod, the arithmetic plan_quota prints, the LimitRange and quota it
chooses, the most students `create` accepts at several --cpu-overcommit factors, and how many of
them could run that largest pod at the same moment.

It prints figures; it asserts nothing about speed.

    python benchmarks/classroom_load.py [--levels 1,4,8] [--sizing-only]
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "live"))  # the test's student (solve_lab_1) and sizing helper

from podlab import classroom  # noqa: E402
from podlab.connect import connect  # noqa: E402
from podlab.errors import PodlabError  # noqa: E402
from podlab.exercises import load_exercises  # noqa: E402
from podlab.quantities import parse_quantity  # noqa: E402
from test_classroom_load import LAB_1, LABS, smallest_overcommit, solve_lab_1  # noqa: E402

MI = classroom.MI


def run_level(students: list[classroom.Student], exercises) -> tuple[float, list]:
    """All these students check lab 1 at once; (wall seconds, attempts). A student's error is raised."""
    start = threading.Barrier(len(students))
    began = time.monotonic()
    with ThreadPoolExecutor(len(students)) as pool:
        results = [f.result() for f in [pool.submit(solve_lab_1, s, exercises, start) for s in students]]
    return time.monotonic() - began, [a for r in results for a in r]


def load(api, levels: list[int]) -> None:
    exercises = load_exercises(LAB_1)
    name = "bench-load-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
    overcommit = smallest_overcommit(api, max(levels))
    scratch = tempfile.TemporaryDirectory(prefix="podlab-load-")  # the kubeconfigs; removed at the end
    out = Path(scratch.name)
    quiet = lambda line: None  # noqa: E731
    try:
        students = classroom.create(api, name, classroom.roster(name, students=max(levels)), out=out,
                                    labs=LABS, cpu_overcommit=overcommit, say=print)
        timings: dict[int, dict[tuple[str, str], list[float]]] = {}
        outcomes: dict[int, list[str]] = {}
        walls: dict[int, float] = {}
        for level in levels:
            print(f"\n-- {level} student(s) at once --", flush=True)
            wall, attempts = run_level(students[:level], exercises)
            walls[level] = wall
            timings[level] = {}
            for a in attempts:
                timings[level].setdefault((a.exercise, a.answer), []).append(a.seconds)
            by_id = {e.id: e for e in exercises}
            outcomes[level] = [f"{a.student} {a.exercise} {a.answer}: {a.outcome}" for a in attempts
                               if (a.answer == "solution") != (a.outcome == "passed")
                               or (a.answer == "starter" and by_id[a.exercise].starter_fails_with not in a.observed)]
        print(f"\nPart 1: each check's time (Exercise.check as a student), median / worst in seconds; "
              f"course {name}, {max(levels)} student(s), --cpu-overcommit {overcommit}")
        head = f"{'check':<42}" + "".join(f"{f'{n} at once':>16}" for n in levels)
        print(head)
        print("-" * len(head))
        for exercise in exercises:
            for answer in ("starter", "solution"):
                cells = []
                for level in levels:
                    times = timings[level].get((exercise.id, answer), [])
                    cells.append(f"{statistics.median(times):6.1f} / {max(times):5.1f}" if times else "-")
                print(f"{exercise.id + ' ' + answer:<42}" + "".join(f"{c:>16}" for c in cells))
        print(f"{'whole lab 1 (wall time of the level)':<42}" + "".join(f"{walls[n]:16.1f}" for n in levels))
        for level in levels:
            print(f"{level} at once: " + ("every starter failed for its reason, every solution passed"
                                          if not outcomes[level] else "; ".join(outcomes[level])))
    finally:
        print()
        classroom.delete(api, name, out=out, say=quiet)
        scratch.cleanup()
        print(f"course {name} deleted")


def most_students(capacity: classroom.Capacity, needs: classroom.LabNeeds, overcommit: float,
                  limit: int = 1000) -> int:
    """The largest N for which plan_quota (what `create` runs) accepts N students."""
    accepted = 0
    for n in range(1, limit + 1):
        try:
            classroom.plan_quota(capacity, needs, n, cpu_overcommit=overcommit)
        except PodlabError:
            break
        accepted = n
    return accepted


def sizing(api) -> None:
    capacity, needs = classroom.cluster_capacity(api), classroom.lab_needs(LABS)
    print("\nPart 2: how many students this node holds under classroom's own sizing")
    print(f"schedulable nodes: allocatable {capacity.cpu_m}m CPU, {capacity.memory // MI}Mi, {capacity.pods} pods; "
          f"running pods request {capacity.used_cpu_m}m, {capacity.used_memory // MI}Mi, {capacity.used_pods} pods")
    print(f"labs' largest pod: {needs.largest}, requests {needs.pod_cpu_m}m CPU and {needs.pod_memory // MI}Mi; "
          f"up to {needs.pods} pods per student at once (LAB_PODS_AT_ONCE)")
    free_cpu = capacity.cpu_m - capacity.used_cpu_m
    for overcommit in (1, 2, 4, 8):
        n = most_students(capacity, needs, overcommit)
        print(f"\n--cpu-overcommit {overcommit}: create accepts at most {n} student(s)")
        if n == 0:
            continue
        plan = classroom.plan_quota(capacity, needs, n, cpu_overcommit=overcommit)
        for line in plan.lines:
            print(f"  {line}")
        limits = plan.limit_range()[0]
        print(f"  LimitRange per container: default {limits['default']}, defaultRequest {limits['defaultRequest']}, "
              f"max {limits['max']}")
        print(f"  ResourceQuota per student: {plan.quota()}")
        default_m = int(parse_quantity(limits["defaultRequest"]["cpu"]) * 1000)
        print(f"  at the same moment: {free_cpu}m free CPU // {needs.pod_cpu_m}m = {free_cpu // needs.pod_cpu_m} of the "
              f"{n} students' largest pods run; a container that sets nothing requests "
              f"{limits['defaultRequest']['cpu']}: {free_cpu}m // {default_m}m = {free_cpu // default_m} such containers")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,4,8", help="how many students at once, comma-separated (default 1,4,8)")
    parser.add_argument("--sizing-only", action="store_true", help="print part 2 only (no course is made)")
    args = parser.parse_args(argv)
    api = connect()
    if not args.sizing_only:
        load(api, [int(n) for n in args.levels.split(",")])
    sizing(api)
    return 0


if __name__ == "__main__":
    sys.exit(main())
