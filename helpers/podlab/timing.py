"""The timing chapters' helpers: predict when the kubelet acts, measure it on a real pod, record a pod's timeline.

    from podlab import timing
    timing.probe_timing(timing.ProbeSetup(period=2, failure_threshold=2, fails_after=4))  # the rules
    result = timing.measure_probe(lab, timing.ProbeSetup(...), prediction=8)          # the real pod
    timing.probe_widget(lab)                                                           # both, as sliders
    lab.apply(manifest_with(timing.MARK_SHELL)); timing.parse_marks(lab.logs("pod"))   # the containers' marks

Predict (podlab.predict, pure): ProbeSetup, probe_timing, TerminationSetup, termination_outcome.
Measure (podlab.measure): measure_probe, measure_termination. Widgets (podlab.widgets):
probe_widget, termination_widget. A pod's timeline (lab.timeline(pod), podlab.timeline):
Timeline, Moment, and the marks containers write, MARK_SHELL and parse_marks. Each name is
imported on first use, so reading the marks never loads the measuring or drawing code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ProbeSetup": "predict", "probe_timing": "predict",
    "TerminationSetup": "predict", "termination_outcome": "predict",
    "measure_probe": "measure", "measure_termination": "measure",
    "probe_widget": "widgets", "termination_widget": "widgets",
    "Timeline": "timeline", "Moment": "timeline", "MARK_SHELL": "timeline", "parse_marks": "timeline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'podlab.timing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"podlab.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from .measure import measure_probe, measure_termination
    from .predict import ProbeSetup, TerminationSetup, probe_timing, termination_outcome
    from .timeline import MARK_SHELL, Moment, Timeline, parse_marks
    from .widgets import probe_widget, termination_widget
