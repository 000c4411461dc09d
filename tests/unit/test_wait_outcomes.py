"""How a wait ends: satisfied, given up (WaitFailed), or timed out (WaitTimeout) with the report."""

from __future__ import annotations

import pytest

from podlab.waiting import WaitFailed, WaitTimeout, _wait


class Scripted:
    def __init__(self, listed, *events):
        self.listed, self.events = listed, list(events)

    def list(self):
        return [self.listed], "1"

    def watch(self, resource_version, timeout_seconds):
        yield from self.events
        self.events = []


def run(source, predicate, timeout=5.0):
    return _wait(source, predicate, what="pod/demo", description="ready", timeout=timeout,
                 summarize=lambda o: "state", report=lambda o: (f"REPORT {o}", "HINT"))


def test_returns_the_state_that_satisfied_the_predicate():
    source = Scripted({"v": 1}, {"type": "MODIFIED", "object": {"v": 2, "metadata": {"resourceVersion": "2"}}})
    assert run(source, lambda objs: objs[0]["v"] == 2)[0]["v"] == 2


def test_timeout_carries_the_report_of_the_last_state_and_the_hint():
    with pytest.raises(WaitTimeout) as caught:
        run(Scripted({"v": 1}), lambda o: False, timeout=0)
    assert str(caught.value) == ("Timed out after 0s waiting for pod/demo to be ready.\n\n"
                                 "REPORT [{'v': 1}]\n  → HINT")


def test_predicate_giving_up_fails_fast_with_reason_and_report():
    def never(o):
        raise WaitFailed("it has failed")
    with pytest.raises(WaitFailed) as caught:
        run(Scripted({"v": 1}), never)
    assert not isinstance(caught.value, WaitTimeout)
    assert caught.value.message.startswith("pod/demo will never be ready: it has failed\n\nREPORT")
