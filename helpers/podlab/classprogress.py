"""Classroom progress: each student's exercise Checks kept in a ConfigMap of their namespace, and the instructor's report.

A lab in classroom mode records its exercise verdicts with ConfigMapProgress (the student's Role
allows configmaps): the ConfigMap `podlab-progress` has one key per exercise, its value a JSON
object with the exercise id, the last outcome, when (Unix time), the Kubernetes version, the last
error, how many attempts there were and when the exercise was first solved. `podlab classroom
report` reads that ConfigMap in every student namespace of the course (read_course) and prints a
table (report_table), or writes CSV (report_csv) or a static HTML page (report_html, escaped).
"""

from __future__ import annotations

import csv
import html
import io
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ._api import api_error, request_json
from .checks import PASSED, Check

STUDENT_NAME = "podlab.dev/student-name"  # a student namespace's annotation: the name as the roster gives it

PROGRESS_CONFIGMAP = "podlab-progress"
CONFLICT_DEADLINE = 30.0  # seconds a record may spend losing write races before it gives up


@dataclass(frozen=True)
class ExerciseRecord:
    """One exercise as a student's progress ConfigMap keeps it."""

    exercise: str
    outcome: str
    at: float
    kubernetes: str
    error: str = ""
    attempts: int = 1
    solved_at: float | None = None

    @property
    def solved(self) -> bool:
        """Whether any attempt passed."""
        return self.solved_at is not None


def updated(previous: ExerciseRecord | None, check: Check, kubernetes: str) -> ExerciseRecord:
    """The record after one more attempt (a pass is kept even if a later attempt fails)."""
    exercise = check.source.removeprefix("exercise ")
    solved_at = previous.solved_at if previous else None
    if check.outcome == PASSED and solved_at is None:
        solved_at = check.at
    return ExerciseRecord(exercise, check.outcome, check.at, kubernetes,
                          check.observed if check.outcome != PASSED else "",
                          (previous.attempts if previous else 0) + 1, solved_at)


def parse_record(key: str, value: str) -> ExerciseRecord:
    """A ConfigMap value as a record; ValueError names the key if it is not one."""
    try:
        data = json.loads(value)
        return ExerciseRecord(**{k: data[k] for k in ExerciseRecord.__dataclass_fields__ if k in data})
    except (ValueError, TypeError) as e:
        raise ValueError(f"key {key!r}: not a progress record ({e})") from None


class ConfigMapProgress:
    """A recorder: exercise checks (source `exercise <id>`) go to the ConfigMap podlab-progress of a namespace."""

    def __init__(self, namespace: str, api: client.ApiClient, *,
                 kubernetes_version: Callable[[], str] = str) -> None:
        self.namespace, self.api, self.kubernetes_version = namespace, api, kubernetes_version

    @property
    def path(self) -> str:
        """The ConfigMap's REST path."""
        return f"/api/v1/namespaces/{self.namespace}/configmaps/{PROGRESS_CONFIGMAP}"

    def record(self, check: Check) -> None:
        """Add the check to its exercise's key: read, then write with the resourceVersion read.

        A write that lost a race (409: another notebook of the student wrote meanwhile) reads
        again after a jittered, growing pause, until CONFLICT_DEADLINE seconds have passed.
        """
        if not check.source.startswith("exercise "):
            return
        key = check.source.removeprefix("exercise ")
        deadline, attempt = time.monotonic() + CONFLICT_DEADLINE, 0
        while True:
            try:
                self._write(key, check)
                return
            except ApiException as e:
                if e.status != 409:  # 409: written meanwhile (or created meanwhile): read again
                    raise api_error(e, f"writing configmap/{PROGRESS_CONFIGMAP}") from None
                attempt += 1
                if time.monotonic() > deadline:
                    raise api_error(e, f"writing configmap/{PROGRESS_CONFIGMAP} ({attempt} conflicts in "
                                       f"{CONFLICT_DEADLINE:.0f} s)") from None
                time.sleep(random.uniform(0, min(1.0, 0.02 * 2 ** attempt)))

    def _write(self, key: str, check: Check) -> None:
        try:
            current = request_json(self.api, "GET", self.path)
        except ApiException as e:
            if e.status != 404:
                raise api_error(e, f"reading configmap/{PROGRESS_CONFIGMAP}") from None
            current = None
        data = dict((current or {}).get("data") or {})
        previous = parse_record(key, data[key]) if key in data else None
        data[key] = json.dumps(updated(previous, check, self.kubernetes_version()).__dict__, ensure_ascii=False)
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "data": data,
                                "metadata": {"name": PROGRESS_CONFIGMAP,
                                             "labels": {"app.kubernetes.io/managed-by": "podlab"}}}
        if current is None:
            request_json(self.api, "POST", f"/api/v1/namespaces/{self.namespace}/configmaps", body=body)
        else:
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            request_json(self.api, "PUT", self.path, body=body)


@dataclass
class StudentProgress:
    """One student's row of the report."""

    student: str
    namespace: str
    records: dict[str, ExerciseRecord] = field(default_factory=dict)
    problem: str = ""  # why the progress could not be read, if it could not

    @property
    def last(self) -> float | None:
        """When the student last checked an exercise."""
        return max((r.at for r in self.records.values()), default=None)


def read_course(api: client.ApiClient, namespaces: list[dict[str, Any]]) -> list[StudentProgress]:
    """Each student namespace's progress ConfigMap (none yet: no records), sorted by student."""
    rows = []
    for ns in namespaces:
        meta = ns["metadata"]
        row = StudentProgress((meta.get("annotations") or {}).get(STUDENT_NAME, meta["name"]), meta["name"])
        try:
            found = request_json(api, "GET", f"/api/v1/namespaces/{meta['name']}/configmaps/{PROGRESS_CONFIGMAP}")
        except ApiException as e:
            if e.status != 404:
                raise api_error(e, f"reading {meta['name']}/{PROGRESS_CONFIGMAP}") from None
            found = {}
        for key, value in sorted((found.get("data") or {}).items()):
            try:
                row.records[key] = parse_record(key, value)
            except ValueError as e:
                row.problem = str(e)
        rows.append(row)
    return sorted(rows, key=lambda r: r.student)


def _mark(record: ExerciseRecord | None) -> str:
    return "solved" if record and record.solved else "tried" if record else "not tried"


def _when(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at)) if at is not None else ""


def report_table(rows: list[StudentProgress], exercises: dict[str, list[str]]) -> str:
    """The terminal table: per student, solved counts overall and per lab, and the last attempt."""
    labs = list(exercises)
    total = sum(len(ids) for ids in exercises.values())
    header = ["student", "solved", "tried"] + [lab.split("-", 1)[0] for lab in labs] + ["last check"]
    body = []
    for row in rows:
        solved = sum(r.solved for r in row.records.values())
        tried = sum(not r.solved for r in row.records.values())
        per_lab = [f"{sum(row.records[i].solved for i in ids if i in row.records)}/{len(ids)}"
                   for ids in exercises.values()]
        last = _when(row.last) or "-"
        body.append([row.student, f"{solved}/{total}", str(tried), *per_lab,
                     last + (f"  ({row.problem})" if row.problem else "")])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [header, *body]]
    out.insert(1, "  ".join("-" * w for w in widths))
    if not rows:
        out.append("(no students in this course)")
    return "\n".join(out)


def _cells(rows: list[StudentProgress], exercises: dict[str, list[str]]) -> list[list[str]]:
    lines = []
    for row in rows:
        known = [i for ids in exercises.values() for i in ids]
        extra = sorted(set(row.records) - set(known))
        for exercise in known + extra:
            record = row.records.get(exercise)
            lines.append([row.student, row.namespace, exercise, _mark(record),
                          record.outcome if record else "", str(record.attempts) if record else "0",
                          _when(record.solved_at) if record else "", _when(record.at) if record else "",
                          record.kubernetes if record else "", record.error if record else ""])
    return lines


CSV_HEADER = ["student", "namespace", "exercise", "status", "last_outcome", "attempts", "solved_at",
              "last_at", "kubernetes", "last_error"]


def report_csv(rows: list[StudentProgress], exercises: dict[str, list[str]]) -> str:
    """One CSV line per student and exercise."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(_cells(rows, exercises))
    return buffer.getvalue()


def report_html(rows: list[StudentProgress], exercises: dict[str, list[str]], *, course: str) -> str:
    """A static HTML page: students down, exercises across, ✓ solved, ✗ tried (the last error as its title), · not tried."""
    e = html.escape
    ids = [i for lab in exercises.values() for i in lab]
    head = "".join(f'<th title="{e(i)}">{e(i)}</th>' for i in ids)
    lines = []
    for row in rows:
        cells = []
        for i in ids:
            record = row.records.get(i)
            status = _mark(record)
            symbol = {"solved": "✓", "tried": "✗", "not tried": "·"}[status]
            title = status + (f": {record.error.splitlines()[0]}" if record and record.error and not record.solved else "")
            cells.append(f'<td class="{status.replace(" ", "-")}" title="{e(title)}">{symbol}</td>')
        solved = sum(r.solved for r in row.records.values())
        lines.append(f"<tr><th>{e(row.student)}</th><td>{solved}/{len(ids)}</td>{''.join(cells)}"
                     f"<td>{e(_when(row.last))}</td></tr>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>podlab classroom {e(course)}</title>
<style>body{{font-family:sans-serif}} table{{border-collapse:collapse}} th,td{{border:1px solid #ccc;padding:2px 6px}}
.solved{{background:#cfc}} .tried{{background:#fdd}} .not-tried{{color:#999}}</style></head>
<body><h1>Course {e(course)}</h1>
<p>{len(rows)} students; ✓ solved, ✗ tried (hover for the last error), · not tried.</p>
<table><thead><tr><th>student</th><th>solved</th>{head}<th>last check</th></tr></thead>
<tbody>
{chr(10).join(lines)}
</tbody></table></body></html>
"""
