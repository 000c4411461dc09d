"""podlab.checks: a check is a value; recorders print it, collect it, or keep a reader's progress."""

from __future__ import annotations

import json

import pytest

import podlab
from podlab.checks import (FAILED, PASSED, UNDECIDED, Check, Collector, ProgressFile, collecting,
                           progress_table, read_progress, record, recording)


def test_a_check_is_a_frozen_value_with_its_printed_line():
    check = Check("pod name file == 'demo'", PASSED, source="expect_equal")
    assert check.passed and check.line() == "✓ pod name file == 'demo'"
    assert Check("A before B", UNDECIDED).line() == "? A before B"
    assert Check("x == 1", FAILED, observed="2").line() == "✗ x == 1; observed 2"
    with pytest.raises(AttributeError):
        check.outcome = FAILED  # type: ignore[misc]
    with pytest.raises(ValueError, match="outcome must be one of"):
        Check("x", "maybe")


def test_the_default_recorder_prints_passed_and_undecided_lines_only(capsys):
    record(Check("a", PASSED))
    record(Check("b", UNDECIDED))
    record(Check("c", FAILED, observed="d"))
    assert capsys.readouterr().out == "✓ a\n? b\n"


def test_expect_claims_make_checks_and_a_failure_is_recorded_before_it_raises(capsys):
    with collecting() as kept:
        podlab.expect_equal("phase", "Running", "Running")
        with pytest.raises(AssertionError, match=r"✗ restarts: expected at least 1; observed 0"):
            podlab.expect_at_least("restarts", 0, 1)
    assert capsys.readouterr().out == ""            # collected instead of printed
    assert [(c.claim, c.outcome, c.source) for c in kept.checks] == [
        ("phase == 'Running'", PASSED, "expect_equal"),
        ("restarts: expected at least 1", FAILED, "expect_at_least")]
    assert kept.checks[1].observed == "0"
    podlab.expect_true("printed again", True)
    assert capsys.readouterr().out == "✓ printed again\n"


def test_recording_adds_recorders_for_a_block():
    also = Collector()
    with collecting() as outer, recording(also):
        record(Check("x", PASSED))
    record(Check("after the block", PASSED))
    assert [c.claim for c in outer.checks] == ["x"] and [c.claim for c in also.checks] == ["x"]


def test_the_progress_file_keeps_exercise_verdicts_and_the_table_reads_them(tmp_path):
    path = tmp_path / "progress.json"
    progress = ProgressFile(path, kubernetes_version=lambda: "v1.37.2")
    progress.record(Check("downward-api claim", PASSED, source="expect_equal"))  # not an exercise: ignored
    progress.record(Check("Name file solved", FAILED, observed="✗ /etc/podinfo/name: expected 'namer'\nmore",
                          source="exercise 01-name"))
    progress.record(Check("Name file solved", PASSED, source="exercise 01-name"))
    progress.record(Check("Labels solved", FAILED, observed="✗ no labels file", source="exercise 01-labels"))
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["kubernetes"] == "v1.37.2"
    attempts = read_progress(path)
    assert [(a.exercise, a.outcome) for a in attempts] == [("01-name", FAILED), ("01-name", PASSED),
                                                           ("01-labels", FAILED)]
    table = progress_table(attempts, {"01-downward-api": ["01-name", "01-labels", "01-env"]})
    assert table.splitlines() == ["01-downward-api: 1 of 3 solved",
                                  "  ✓ 01-name  solved",
                                  "  ✗ 01-labels  tried: ✗ no labels file",
                                  "  · 01-env  not tried"]


def test_a_damaged_progress_file_is_named_with_what_to_do(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text('{"exercise": "x"\n')
    with pytest.raises(ValueError, match=r"progress.json, line 1: not a progress record .*remove the line"):
        read_progress(path)
