"""Predict, then measure: two ipywidgets a reader sets, predicts with, and then runs against the cluster.

    podlab.timing.probe_widget(lab)        # sliders for a probe; predict when the kubelet acts; Measure
    podlab.timing.termination_widget(lab)  # grace period, preStop length, SIGTERM handler; predict; Measure
    podlab.widgets.choice_widget(lab)      # two fake nodes and a pod's requests; predict the node; Measure

In JupyterLab the cell shows live controls. Pressing "Measure" runs the real pod
(podlab.timing.measure_probe / measure_termination) and shows the rules' window, the prediction
and the measurement on one timeline. The window is not shown before: the reader predicts first.

Everywhere else the same output shows a fixed text/plain and text/html description: the
static site (its MIME priority drops the widget view), nbval (which skips widget views and
compares the text), and a notebook opened before its cells run. Executed notebooks are stored
without widget state (scripts/execute_notebooks.py drops it). The cell after a widget calls
the same measurement with fixed values, so CI runs the real thing.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .placement import NO_NODE, TIE
from .predict import ProbeSetup, TerminationSetup

if TYPE_CHECKING:
    from .session import Lab

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class PredictWidget:
    """Live controls in JupyterLab; a fixed description as text/plain and text/html everywhere else."""

    def __init__(self, title: str, description: str, build: Callable[[], Any]) -> None:
        self.title = title
        self.description = description
        self._build = build
        self._box: Any = None

    def __repr__(self) -> str:
        return f"<{self.title} (interactive in JupyterLab)>"

    @property
    def box(self) -> Any:
        """The ipywidgets container (built on first use)."""
        if self._box is None:
            self._box = self._build()
        return self._box

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = {"text/plain": self.fallback_text(), "text/html": self.fallback_html()}
        try:
            view = self.box._repr_mimebundle_()
        except ImportError:
            return bundle  # no ipywidgets: the description is all there is
        if view and WIDGET_VIEW in view:
            bundle[WIDGET_VIEW] = view[WIDGET_VIEW]
        return bundle

    def fallback_text(self) -> str:
        """The fixed text shown where the widget cannot run."""
        return (f"{self.title} (interactive in JupyterLab).\n{self.description}\n"
                "Here it cannot run: the next cell makes the same measurement with fixed values.")

    def fallback_html(self) -> str:
        """The fixed HTML shown where the widget cannot run (the static site)."""
        return ('<div class="podlab-widget-fallback" style="border:1px solid #bbb;border-radius:4px;'
                'padding:0.6em 0.9em;background:#f7f7f7">'
                f"<strong>{html.escape(self.title)}</strong> (interactive in JupyterLab)<br>"
                f"{html.escape(self.description)}<br>"
                "<em>Here it cannot run: the next cell makes the same measurement with fixed values.</em></div>")


def probe_widget(lab: Lab,
                 setup: ProbeSetup = ProbeSetup(period=2, failure_threshold=2, fails_after=4)) -> PredictWidget:
    """Sliders for a probe and a prediction box; "Measure" runs the pod and draws both on its timeline."""
    description = ("Choose liveness or readiness, initialDelaySeconds, periodSeconds, timeoutSeconds, "
                   "failureThreshold (and successThreshold for readiness), and when the app's check starts "
                   "to fail. Predict, in seconds after the container starts, when the kubelet kills the "
                   "container (liveness) or turns the pod's Ready condition False (readiness); then press "
                   "Measure to run the pod and see your prediction, the kubelet's window and the measurement "
                   "on one timeline.")
    return PredictWidget("Probe timing: predict, then measure", description, lambda: _probe_box(lab, setup))


def termination_widget(lab: Lab, setup: TerminationSetup = TerminationSetup(grace_period=5, prestop=2,
                                                                           handles_sigterm=False)) -> PredictWidget:
    """Grace period, preStop length and SIGTERM handling, and a prediction; "Measure" deletes a real pod."""
    description = ("Choose terminationGracePeriodSeconds, how long a preStop hook runs, and whether the "
                   "app's PID 1 handles SIGTERM. Predict how many seconds after the delete request the "
                   "container ends, and by which signal; then press Measure to delete a real pod and see "
                   "your prediction, the kubelet's window and the measurement on one timeline.")
    return PredictWidget("Termination: predict, then measure", description, lambda: _termination_box(lab, setup))


def choice_widget(lab: Lab, shapes: tuple[str, ...] = ("small", "large", "cpu-heavy", "medium-a", "medium-b"),
                  ) -> PredictWidget:
    """Two of the session's fake nodes and a pod's requests, and a prediction; "Measure" runs the real scheduler."""
    description = ("Choose two of this session's fake nodes and the CPU and memory a pod requests. Predict "
                   "which node the scheduler picks (or a tie, or no node); then press Measure: the scores "
                   "are computed from the nodes as served, and the real scheduler places a pod, which is "
                   "deleted again.")
    return PredictWidget("Scheduling: predict, then measure", description, lambda: _choice_box(lab, shapes))


# -- the controls (ipywidgets is imported only when a widget is shown) -----------------------------

def _probe_box(lab: Lab, setup: ProbeSetup) -> Any:
    import ipywidgets as w

    style = {"description_width": "170px"}
    layout = w.Layout(width="460px")
    kind = w.ToggleButtons(options=["liveness", "readiness"], value=setup.kind, description="probe", style=style)
    delay = w.IntSlider(setup.initial_delay, 0, 20, description="initialDelaySeconds", style=style, layout=layout)
    period = w.IntSlider(setup.period, 1, 10, description="periodSeconds", style=style, layout=layout)
    timeout = w.IntSlider(setup.timeout, 1, 5, description="timeoutSeconds", style=style, layout=layout)
    failures = w.IntSlider(setup.failure_threshold, 1, 5, description="failureThreshold", style=style,
                           layout=layout)
    successes = w.IntSlider(setup.success_threshold, 1, 3, description="successThreshold", style=style,
                            layout=layout, disabled=setup.kind == "liveness")
    fails_after = w.FloatSlider(setup.fails_after, min=0, max=20, step=0.5, description="check fails after (s)",
                                style=style, layout=layout)
    failure = w.Dropdown(options=[("fails at once (exit 1)", "error"), ("stops answering (times out)", "hang")],
                         value=setup.failure, description="the failing check", style=style, layout=layout)
    prediction = w.FloatText(value=0.0, description="your prediction (s)", style=style, layout=layout)
    button = w.Button(description="Measure", button_style="primary", icon="play")
    out = w.Output()

    def on_kind(change: dict[str, Any]) -> None:
        successes.disabled = change["new"] == "liveness"
        if successes.disabled:
            successes.value = 1
    kind.observe(on_kind, names="value")

    def current() -> ProbeSetup:
        return ProbeSetup(kind=kind.value, initial_delay=delay.value, period=period.value, timeout=timeout.value,
                          failure_threshold=failures.value, success_threshold=successes.value,
                          fails_after=fails_after.value, failure=failure.value)

    def measure(_: Any) -> None:
        from .measure import measure_probe
        _run(out, button, lambda: measure_probe(lab, current(), prediction=prediction.value))

    button.on_click(measure)
    question = w.HTML("<b>Predict</b>: seconds after the container starts until the kubelet kills it "
                      "(liveness) or the pod turns not Ready (readiness).")
    return w.VBox([kind, delay, period, timeout, failures, successes, fails_after, failure, question,
                   w.HBox([prediction, button]), out])


def _termination_box(lab: Lab, setup: TerminationSetup) -> Any:
    import ipywidgets as w

    style = {"description_width": "210px"}
    layout = w.Layout(width="480px")
    grace = w.IntSlider(setup.grace_period, 1, 30, description="terminationGracePeriodSeconds", style=style,
                        layout=layout)
    prestop = w.FloatSlider(setup.prestop, min=0, max=30, step=0.5, description="preStop runs (s, 0: none)",
                            style=style, layout=layout)
    handles = w.Checkbox(setup.handles_sigterm, description="PID 1 handles SIGTERM (exits at once)", indent=False)
    prediction = w.FloatText(value=0.0, description="your prediction (s)", style=style, layout=layout)
    signal = w.ToggleButtons(options=["SIGTERM", "SIGKILL"], value="SIGTERM", description="it dies by",
                             style={"description_width": "210px"})
    button = w.Button(description="Measure", button_style="primary", icon="play")
    out = w.Output()

    def measure(_: Any) -> None:
        from .measure import measure_termination
        chosen = TerminationSetup(grace_period=grace.value, prestop=prestop.value, handles_sigterm=handles.value)

        _run(out, button, lambda: measure_termination(lab, chosen, prediction=prediction.value,
                                                      signal=signal.value))

    button.on_click(measure)
    question = w.HTML("<b>Predict</b>: seconds from the delete request until the container ends, and the signal "
                      "that ends it.")
    return w.VBox([grace, prestop, handles, question, w.HBox([prediction, signal]), button, out])


def _choice_box(lab: Lab, shapes: tuple[str, ...]) -> Any:
    import ipywidgets as w

    style = {"description_width": "150px"}
    layout = w.Layout(width="420px")
    first = w.Dropdown(options=list(shapes), value=shapes[0], description="node A", style=style, layout=layout)
    second = w.Dropdown(options=list(shapes), value=shapes[2 if len(shapes) > 2 else -1], description="node B",
                        style=style, layout=layout)
    cpu = w.Dropdown(options=[("nothing", ""), "100m", "250m", "500m", "1", "2", "4", "8"], value="500m",
                     description="the pod's cpu request", style=style, layout=layout)
    memory = w.Dropdown(options=[("nothing", ""), "256Mi", "512Mi", "1Gi", "2Gi", "4Gi", "8Gi"], value="1Gi",
                        description="its memory request", style=style, layout=layout)
    prediction = w.ToggleButtons(description="your prediction", style=style)
    button = w.Button(description="Measure", button_style="primary", icon="play")
    out = w.Output()

    def choices(_: Any = None) -> None:
        prediction.options = list(dict.fromkeys([first.value, second.value, TIE, NO_NODE]))
    first.observe(choices, names="value")
    second.observe(choices, names="value")
    choices()

    def measure(_: Any) -> None:
        from .placement import measure_choice
        _run(out, button, lambda: measure_choice(lab, (first.value, second.value), cpu=cpu.value or None,
                                                 memory=memory.value or None, prediction=prediction.value),
             running="Computing the scores, then letting the scheduler place the pod…")

    button.on_click(measure)
    question = w.HTML("<b>Predict</b>: on which node does the scheduler put the pod?")
    return w.VBox([first, second, cpu, memory, question, prediction, button, out])


def _run(out: Any, button: Any, measure: Callable[[], Any],
         running: str = "Running the pod on the cluster (this takes as long as the kubelet's rules say)…") -> None:
    """Run a measurement in the widget: the button waits, the output shows the summary and the figure."""
    from IPython.display import display
    button.disabled, button.description = True, "Measuring…"
    out.clear_output()
    try:
        with out:
            print(running)
            result = measure()
            out.clear_output()
            result.summary()
            figure = result.plot()
            if figure is not None:
                display(figure)
    except Exception as error:  # shown in the widget, which stays usable
        with out:
            print(f"✗ {error}")
    finally:
        button.disabled, button.description = False, "Measure"
