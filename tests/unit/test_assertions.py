"""Each claim prints one stable line on success and shows the observed value on failure."""

from __future__ import annotations

import pytest

from podlab.assertions import (expect_at_least, expect_contains, expect_equal, expect_line,
                               expect_match, expect_true)

LABELS = 'app="demo"\nzone="us-east"\n'


@pytest.mark.parametrize("check, line", [
    (lambda: expect_equal("pod_name file", "demo", "demo"), "✓ pod_name file == 'demo'\n"),
    (lambda: expect_contains("hosts file", "10.0.0.1 demo\n", "demo"), "✓ hosts file contains 'demo'\n"),
    (lambda: expect_line("pod_labels", LABELS, 'zone="us-east"'), '✓ pod_labels has zone="us-east"\n'),
    (lambda: expect_at_least("restarts", 7, 1), "✓ restarts >= 1\n"),
    (lambda: expect_true("the pod was restarted", True), "✓ the pod was restarted\n"),
    (lambda: expect_match("uid", "uid=1000 gid=3000", r"uid=\d+"), "✓ uid matches /uid=\\d+/\n"),
])
def test_success_prints_exactly_one_stable_line(capsys, check, line):
    check()
    assert capsys.readouterr().out == line


def test_bound_line_does_not_depend_on_the_observed_value(capsys):
    expect_at_least("restarts", 1, 1)
    expect_at_least("restarts", 9, 1)
    first, second = capsys.readouterr().out.splitlines()
    assert first == second


@pytest.mark.parametrize("check, message", [
    (lambda: expect_equal("pod_name file", "dmeo", "demo"),
     "✗ pod_name file: expected 'demo'; observed 'dmeo'"),
    (lambda: expect_contains("hosts file", "nothing", "demo"),
     "✗ hosts file: expected it to contain 'demo'; observed 'nothing'"),
    (lambda: expect_line("pod_labels", LABELS, 'zone="eu"'),
     '✗ pod_labels: expected a line \'zone="eu"\'; observed\n    | app="demo"\n    | zone="us-east"'),
    (lambda: expect_at_least("restarts", 0, 1), "✗ restarts: expected at least 1; observed 0"),
    (lambda: expect_true("the pod was restarted", 0), "✗ the pod was restarted: expected it to hold; observed 0"),
    (lambda: expect_match("uid", "root", r"uid=\d+"), "✗ uid: expected a match for /uid=\\d+/; observed 'root'"),
])
def test_failure_raises_with_the_observed_value_and_prints_nothing(capsys, check, message):
    with pytest.raises(AssertionError) as caught:
        check()
    assert str(caught.value) == message
    assert capsys.readouterr().out == ""


def test_expect_line_needs_a_whole_line_not_a_fragment():
    with pytest.raises(AssertionError):
        expect_line("pod_labels", LABELS, 'zone="us')


def test_expect_same_prints_only_the_description(capsys):
    from podlab.assertions import expect_same
    expect_same("POD_UID matches metadata.uid", "0b1c-uid", "0b1c-uid")
    assert capsys.readouterr().out == "✓ POD_UID matches metadata.uid\n"


def test_expect_same_failure_shows_both_values():
    import pytest
    from podlab.assertions import expect_same
    with pytest.raises(AssertionError) as error:
        expect_same("POD_IP equals status.podIP", "10.200.0.1", "10.244.0.7")
    assert "expected '10.244.0.7'" in str(error.value) and "'10.200.0.1'" in str(error.value)
