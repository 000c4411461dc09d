"""Drawing a timeline: one matplotlib figure of a pod's moments, one row per source (loaded only to draw)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ..errors import PodlabError
from .moments import Moment

_PAIRS = (("-start", "-end"), (" start", " end"))
_COLORS = {"container": "tab:blue", "pod": "tab:green", "events": "tab:orange", "marks": "tab:purple"}


def rows(moments: Sequence[Moment]) -> list[str]:
    """The figure's rows, top to bottom: containers, pod, events, marks."""
    def rank(source: str) -> tuple[int, str]:
        kind = source.split(" ")[0]
        return (["container", "pod", "events", "marks"].index(kind) if kind in _COLORS else 4, source)
    return sorted({m.source for m in moments}, key=rank)


def spans(moments: Sequence[Moment]) -> list[tuple[str, str, Moment, Moment | None]]:
    """(row, name, start, end or None while running): container runs, the grace period, paired marks."""
    found: list[tuple[str, str, Moment, Moment | None]] = []
    open_: dict[tuple[str, str], list[Moment]] = {}
    for m in moments:
        start_of = end_of = None
        if m.label.endswith(" running"):
            start_of = m.label[:-len(" running")]
        elif m.label.endswith(" exited"):
            end_of = m.label[:-len(" exited")]
        elif m.label == "deletion requested":
            start_of = "grace period"
        elif m.label == "grace period ends":
            end_of = "grace period"
        for start, end in _PAIRS:
            if m.label.endswith(start):
                start_of = m.label[:-len(start)]
            elif m.label.endswith(end):
                end_of = m.label[:-len(end)]
        if start_of is not None:
            open_.setdefault((m.source, start_of), []).append(m)
        elif end_of is not None and open_.get((m.source, end_of)):
            found.append((m.source, end_of, open_[(m.source, end_of)].pop(0), m))
    for (row, name), starts in open_.items():  # a container still running; an unpaired mark is no span
        found += [(row, name, start, None) for start in starts if row.startswith("container ")]
    return found


_figure_class: type | None = None  # made on first use, so that matplotlib loads only when plotting


def _figure(title: str) -> Any:
    global _figure_class
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PodlabError("Drawing a timeline needs matplotlib, which is not installed.",
                          hint="pip install matplotlib (in the environment of this kernel).") from None
    if _figure_class is None:
        class TimelineFigure(Figure):
            """A figure that shows in a notebook as a PNG (with or without pyplot), and repr's stably."""

            def __repr__(self) -> str:
                return f"<timeline figure: {self.get_label()}>"

            def _repr_png_(self) -> bytes:
                buffer = io.BytesIO()
                self.savefig(buffer, format="png", bbox_inches="tight")
                return buffer.getvalue()
        _figure_class = TimelineFigure
    figure = _figure_class(figsize=(11, 4), layout="constrained")
    FigureCanvasAgg(figure)  # draws without a display or pyplot: any backend setting is fine
    figure.set_label(title)
    return figure


def plot_moments(moments: Sequence[Moment], *, title: str = "timeline") -> Any:
    """A matplotlib Figure of the moments: x is seconds since the first, one row per source."""
    figure = _figure(title)
    axes = figure.add_subplot()
    if not moments:
        axes.set_title(f"{title}: no moments recorded")
        return figure
    start = moments[0].time
    end = max(m.time + m.resolution for m in moments) - start
    order = rows(moments)
    figure.set_size_inches(11, 1.6 + 1.3 * len(order))
    y = {row: len(order) - 1 - i for i, row in enumerate(order)}
    for row, name, first, last in spans(moments):
        right = (last.time if last else start + end) - start
        axes.broken_barh([(first.time - start, max(right - (first.time - start), 0.02))], (y[row] - 0.18, 0.36),
                         facecolors=_color(row), alpha=0.18, edgecolors=_color(row))
        axes.text((first.time - start + right) / 2, y[row] - 0.1, name, ha="center", va="center", fontsize=7,
                  color=_color(row))  # inside the bar, below the points: labels rise above them
    gap = max(end, 1.0) / 40  # labels closer than this to the previous one in the row are stacked
    previous: dict[str, tuple[float, int]] = {}
    for source, x, group in _same_time_groups(moments, start):
        first = group[0]
        if first.resolution >= 0.05:  # show the second a whole-second moment may lie in
            axes.plot([x, x + first.resolution], [y[source]] * 2, color=_color(source), linewidth=3, alpha=0.35,
                      solid_capstyle="butt")
        axes.plot([x], [y[source]], marker="o", markersize=4, color=_color(source))
        last_x, level = previous.get(source, (float("-inf"), -1))
        level = level + 1 if x - last_x < gap else 0
        previous[source] = (x, level)
        # moments at the same time share one label, so that they never print over each other
        axes.annotate(", ".join(_label(m) for m in group), (x, y[source]), xytext=(2, 5 + 11 * (level % 5)),
                      textcoords="offset points", rotation=25, fontsize=7, ha="left", va="bottom")
    axes.set_yticks(list(y.values()), list(y.keys()))
    axes.set_ylim(-0.6, len(order) - 0.1)
    axes.set_xlim(-0.02 * max(end, 1.0), max(end, 1.0) * 1.08)
    axes.set_xlabel(f"seconds since {moments[0].label}  (a pale line after a point: the second in which "
                    "a whole-second time lies)", fontsize=9)
    axes.grid(axis="x", alpha=0.3)
    axes.set_title(title)
    return figure


def _same_time_groups(moments: Sequence[Moment], start: float) -> list[tuple[str, float, list[Moment]]]:
    """(row, x, moments) for each run of moments in one row at the same time, in time order."""
    groups: list[tuple[str, float, list[Moment]]] = []
    last: dict[str, tuple[str, float, list[Moment]]] = {}
    for m in sorted(moments, key=lambda m: m.time):
        x = m.time - start
        group = last.get(m.source)
        if group is not None and abs(group[1] - x) < 1e-6:
            group[2].append(m)
            continue
        last[m.source] = (m.source, x, [m])
        groups.append(last[m.source])
    return groups


def _label(m: Moment) -> str:
    if m.label.endswith(" exited") and m.detail:
        code = m.detail.split(",")[0].removeprefix("exit code ")
        return f"{m.label} ({code}{', SIGKILL' if 'SIGKILL' in m.detail else ''})"
    return m.label


def _color(row: str) -> str:
    return _COLORS.get(row.split(" ")[0], "tab:gray")
