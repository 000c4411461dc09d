"""A pod's timeline: when its status, its events and its containers' own marks say things happened.

    tl = lab.timeline("hooks")                  # records the pod and its events from now on
    lab.apply("05-hooks/hooks.yaml")
    lab.wait("hooks", podlab.ready)
    lab.delete("hooks")                         # gone from the API; the timeline kept what it saw
    tl.stop()
    tl.expect_order("deletion requested", "preStop-start", "app exited")
    tl.expect_between("deletion requested", "app exited", 0, 3)
    tl.plot()

One concern per module: moments (what pod states, events and marks say, and the arithmetic
of their resolutions), recording (Timeline: watching a pod and its events), claims (judging
expect_seen/expect_order/expect_between as podlab.Checks) and figures (drawing with
matplotlib). The package loads moments and recording; a claim loads claims and a plot loads
figures, so a chapter that only draws never imports the judging code, and the reverse.
"""

from __future__ import annotations

from .moments import (KILLED, MARK_SHELL, TERMINATION_LOG, Moment, can_precede, duration_range, event_moments,
                      mark_shell, merge, parse_marks, parse_time, pod_moments, surely_precedes)
from .recording import RECORDING, Timeline

__all__ = ["KILLED", "MARK_SHELL", "RECORDING", "TERMINATION_LOG", "Moment", "Timeline", "can_precede",
           "duration_range", "event_moments", "mark_shell", "merge", "parse_marks", "parse_time",
           "pod_moments", "surely_precedes"]
