"""Draws a ``Course`` as one SVG figure with a shared x axis (days since day 0), like the seed's
Figure 3: vitals, drips and oxygen, biomarkers on a log scale, the ICANS encephalopathy screen
(ICE, or CAPD under 12), dose markers and a grade strip (Lee 2014, ASTCT 2019, ICANS).

matplotlib renders on the server (no script, no CDN: EHR side panels often block outside hosts).
The output is deterministic (fixed ``svg.hashsalt``, no date) and every drawn thing carries an
SVG id (``series-<key>``, ``marker-<kind>-<n>``, ``grade-<system>-day-<n>``, ``threshold-<key>``)
so tests and the browser check can find what was drawn.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from typing import Any

import matplotlib
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedFormatter, FixedLocator, LogLocator, NullFormatter

from cds_service.smart.course import Course, MarkerKind, Series, SeriesKey

#: Grade colours, shared with the page's CSS (``.grade-N``): neutral, then amber to deep red.
GRADE_COLOURS: dict[int, str] = {
    0: "#e2e8f0",
    1: "#fde68a",
    2: "#fdba74",
    3: "#f87171",
    4: "#b91c1c",
    5: "#450a0a",
}
_GRADE_TEXT: dict[int, str] = {
    0: "#334155",
    1: "#422006",
    2: "#431407",
    3: "#450a0a",
    4: "#ffffff",
    5: "#ffffff",
}

_STYLE: dict[SeriesKey, dict[str, object]] = {
    SeriesKey.TEMPERATURE: {"color": "#c2410c", "marker": "o"},
    SeriesKey.SYSTOLIC: {"color": "#1d4ed8", "marker": "o"},
    SeriesKey.MEAN_ARTERIAL: {"color": "#0e7490", "marker": "s", "linestyle": "--"},
    SeriesKey.NOREPINEPHRINE_EQUIVALENT: {"color": "#6d28d9"},
    SeriesKey.FIO2: {"color": "#047857", "marker": "D"},
    SeriesKey.CRP: {"color": "#b45309", "marker": "o"},
    SeriesKey.FERRITIN: {"color": "#9d174d", "marker": "s", "linestyle": "--"},
    SeriesKey.IL6: {"color": "#3730a3", "marker": "^", "linestyle": ":"},
    SeriesKey.ICE: {"color": "#0369a1", "marker": "o"},
    SeriesKey.CAPD: {"color": "#a21caf", "marker": "s"},
}
_MARKER_STYLE: dict[MarkerKind, dict[str, object]] = {
    MarkerKind.TOCILIZUMAB: {"color": "#0f766e", "linestyle": "-", "linewidth": 1.6},
    MarkerKind.CORTICOSTEROID: {"color": "#a16207", "linestyle": "--", "linewidth": 1.4},
    MarkerKind.OTHER: {"color": "#475569", "linestyle": ":", "linewidth": 1.4},
}
_MARKER_LABEL: dict[MarkerKind, str] = {
    MarkerKind.TOCILIZUMAB: "Tocilizumab",
    MarkerKind.CORTICOSTEROID: "Corticosteroid",
    MarkerKind.OTHER: "Other immunosuppressant",
}
_INK = "#1e293b"
_MUTED = "#64748b"
_RC: dict[Any, Any] = {
    "svg.hashsalt": "crs-cds-course",
    "svg.fonttype": "none",  # text stays text: selectable, searchable, small
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.edgecolor": "#cbd5e1",
    "axes.labelcolor": _INK,
    "xtick.color": _MUTED,
    "ytick.color": _MUTED,
    "axes.linewidth": 0.8,
}
# matplotlib's rcParams are process-wide: one figure at a time.
_LOCK = threading.Lock()
_SVG_ROOT = re.compile(r'<svg\b[^>]*?\swidth="[^"]*"\s+height="[^"]*"')


def render_course_svg(course: Course, *, title: str) -> str:
    """The course as an inline ``<svg>`` element that scales to its container's width."""
    with _LOCK, matplotlib.rc_context(_RC):
        figure = _draw(course)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Title": title})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype for inline use
    return _SVG_ROOT.sub(
        lambda m: (
            m.group(0).split(" width=")[0]
            + ' width="100%" preserveAspectRatio="xMidYMin meet" role="img"'
            + f' aria-label="{_attr(title)}" class="crs-chart"'
        ),
        svg,
        count=1,
    )


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _draw(course: Course) -> Figure:
    # Landscape, to fill the page's width on a desktop (the page's content is ~60rem); in a
    # narrow EHR side panel the chart keeps a legible minimum width and scrolls sideways in its
    # own frame (smart.css), never the page.
    figure = Figure(figsize=(9.6, 8.8))
    grid = figure.add_gridspec(
        7,
        1,
        height_ratios=(1.0, 1.15, 0.8, 0.8, 1.15, 0.8, 0.72),
        hspace=0.3,
        left=0.085,
        right=0.985,
        top=0.952,
        bottom=0.062,
    )
    axes = [figure.add_subplot(grid[0])]
    axes += [figure.add_subplot(grid[i], sharex=axes[0]) for i in range(1, 7)]
    temperature, pressure, drips, oxygen, labs, screens, strip = axes

    _panel(temperature, course, (SeriesKey.TEMPERATURE,), "Temp °C")
    _panel(pressure, course, (SeriesKey.SYSTOLIC, SeriesKey.MEAN_ARTERIAL), "BP mmHg")
    _panel(drips, course, (SeriesKey.NOREPINEPHRINE_EQUIVALENT,), "NE eq. µg/min")
    _panel(oxygen, course, (SeriesKey.FIO2,), "FiO₂ %")
    _panel(labs, course, (SeriesKey.CRP, SeriesKey.FERRITIN, SeriesKey.IL6), "Labs (log)", log=True)
    _panel(screens, course, _SCREENS, _screen_label(course), own_thresholds=True)
    _limits(course, temperature, drips, oxygen)
    _screen_limits(course, screens)
    _grade_strip(strip, course)

    for panel in axes:
        panel.set_xlim(0.0, course.x_max)
        panel.grid(axis="x", color="#e2e8f0", linewidth=0.6)
        panel.set_axisbelow(True)
        panel.tick_params(labelsize=9, length=2.5)
        for side in ("top", "right"):
            panel.spines[side].set_visible(False)
        if panel is not strip:
            panel.tick_params(axis="x", which="both", labelbottom=False)
        if course.as_of_day < course.x_max:
            after = panel.axvspan(
                course.as_of_day, course.x_max, color="#f1f5f9", zorder=0, linewidth=0
            )
            after.set_gid(f"after-as-of-{axes.index(panel)}")
    _dose_markers(axes, course)
    _day_ticks(strip, course.x_max)
    strip.set_xlabel(f"Day after infusion (day 0 = {course.day0.date().isoformat()})", color=_INK)
    _legend(figure, course)
    return figure


def _day_ticks(ax: Axes, x_max: float) -> None:
    """Grid lines at day boundaries; each day's number in the middle of its span, like the
    grade strip's cells (day n spans [n, n + 1))."""
    days = int(x_max)
    step = max(1, -(-days // 12))  # at most ~12 labels however long the course
    ax.xaxis.set_major_locator(FixedLocator(list(range(days + 1))))
    ax.xaxis.set_major_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(FixedLocator([d + 0.5 for d in range(0, days, step)]))
    ax.xaxis.set_minor_formatter(FixedFormatter([str(d) for d in range(0, days, step)]))
    ax.tick_params(axis="x", which="minor", length=0, labelsize=9.5)


#: The ICANS encephalopathy screens: ICE from 12 y, CAPD under 12 (ASTCT 2019, SPEC 2.9).
_SCREENS = (SeriesKey.ICE, SeriesKey.CAPD)


def _screen_label(course: Course) -> str:
    charted = [course.get(key).label for key in _SCREENS if course.get(key).points]
    return " / ".join(charted) if charted else "ICE / CAPD"


def _screen_limits(course: Course, ax: Axes) -> None:
    """ICE runs 0-10 (10 normal), CAPD 0-32 (0 normal): the panel shows the whole scale."""
    if course.get(SeriesKey.CAPD).points:
        ax.set_ylim(-1.0, 33.0)
        ax.yaxis.set_major_locator(FixedLocator([0, 9, 16, 24, 32]))
    elif course.get(SeriesKey.ICE).points:
        ax.set_ylim(-0.5, 10.8)
        ax.yaxis.set_major_locator(FixedLocator([0, 3, 7, 10]))


def _panel(
    ax: Axes,
    course: Course,
    keys: Sequence[SeriesKey],
    ylabel: str,
    *,
    log: bool = False,
    own_thresholds: bool = False,
) -> None:
    """One panel of ``keys``; its threshold lines are drawn when the panel has data (with
    ``own_thresholds``, only for a series that itself has data: ICE bands on a CAPD chart would
    mislead)."""
    ax.set_ylabel(ylabel, fontsize=9.5)
    drawn = 0
    for key in keys:
        series = course.get(key)
        if series.points:
            _plot(ax, series)
            drawn += 1
    for line in course.thresholds:
        if own_thresholds and not course.get(line.key).points:
            continue
        if line.key in keys and drawn:
            rule = ax.axhline(
                line.value, color="#dc2626", linewidth=0.9, linestyle=(0, (4, 3)), zorder=1
            )
            gid = f"threshold-{line.key.value}"
            rule.set_gid(f"{gid}-{line.value:g}" if own_thresholds else gid)
            ax.annotate(
                line.label,
                xy=(1.0, line.value),
                xycoords=("axes fraction", "data"),
                xytext=(-2, 2),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize=8,
                color="#b91c1c",
            )
    if log and drawn:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10))
        ax.yaxis.set_minor_formatter(NullFormatter())
    if not drawn:
        ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            "no data",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=_MUTED,
            fontsize=8,
        )
    elif len(keys) > 1:
        # Above the panel, so that it never hides a reading.
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 0.98),
            fontsize=8.5,
            frameon=False,
            ncols=len(keys),
            handlelength=1.8,
            borderaxespad=0.0,
            borderpad=0.0,
            columnspacing=1.2,
        )


def _plot(ax: Axes, series: Series) -> None:
    style = dict(_STYLE[series.key])
    days = [p.day for p in series.points]
    values = [p.value for p in series.points]
    label = f"{series.label} ({series.unit})"
    if series.step:
        (line,) = ax.plot(
            days,
            values,
            drawstyle="steps-post",
            linewidth=1.6,
            label=label,
            color=str(style["color"]),
        )
        fill = ax.fill_between(
            days, values, step="post", alpha=0.15, color=str(style["color"]), linewidth=0
        )
        fill.set_gid(f"series-{series.key.value}-fill")
    else:
        (line,) = ax.plot(days, values, linewidth=1.3, markersize=3.2, label=label, **style)  # type: ignore[arg-type]
    line.set_gid(f"series-{series.key.value}")


def _limits(course: Course, temperature: Axes, drips: Axes, oxygen: Axes) -> None:
    temps = [p.value for p in course.get(SeriesKey.TEMPERATURE).points]
    if temps:
        temperature.set_ylim(min(35.5, min(temps) - 0.3), max(40.0, max(temps) + 0.3))
    rates = [p.value for p in course.get(SeriesKey.NOREPINEPHRINE_EQUIVALENT).points]
    if rates:
        drips.set_ylim(0.0, max(5.0, max(rates) * 1.2))
    if course.get(SeriesKey.FIO2).points:
        oxygen.set_ylim(15.0, 105.0)
        oxygen.yaxis.set_major_locator(FixedLocator([21, 40, 60, 80, 100]))


def _grade_strip(ax: Axes, course: Course) -> None:
    """Three rows of day cells, coloured by grade: CRS by revised Lee 2014 on top, CRS by ASTCT
    2019, and ICANS by ASTCT 2019 (SPEC 2.9) at the bottom."""
    ax.set_ylim(0.0, 3.0)
    ax.set_yticks([2.5, 1.5, 0.5], labels=["Lee", "ASTCT", "ICANS"])
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    show_numbers = course.x_max <= 24
    for daily in course.daily:
        for row, system, grade in (
            (2.0, "lee2014", daily.lee2014),
            (1.0, "astct2019", daily.astct2019),
            (0.0, "icans", daily.icans),
        ):
            cell = Rectangle(
                (daily.day, row + 0.06),
                1.0,
                0.88,
                facecolor=GRADE_COLOURS.get(grade, GRADE_COLOURS[5]),
                edgecolor="#ffffff",
                linewidth=1.0,
            )
            cell.set_gid(f"grade-{system}-day-{daily.day}")
            ax.add_patch(cell)
            if show_numbers:
                ax.text(
                    daily.day + 0.5,
                    row + 0.5,
                    str(grade),
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    fontweight="bold",
                    color=_GRADE_TEXT.get(grade, "#ffffff"),
                    zorder=4,
                )


def _dose_markers(axes: Sequence[Axes], course: Course) -> None:
    for index, marker in enumerate(course.markers):
        style = _MARKER_STYLE[marker.kind]
        for n, panel in enumerate(axes):
            # On the grade strip the line runs over the cells but under the grade numbers.
            zorder = 2 if n == len(axes) - 1 else 3
            line = panel.axvline(marker.day, zorder=zorder, **style)  # type: ignore[arg-type]
            suffix = "" if n == 0 else f"-p{n}"
            line.set_gid(f"marker-{marker.kind.value}-{index}{suffix}")


def _legend(figure: Figure, course: Course) -> None:
    kinds = sorted({m.kind for m in course.markers}, key=list(MarkerKind).index)
    handles: list[Artist] = [
        Line2D([], [], **_MARKER_STYLE[k])  # type: ignore[arg-type]
        for k in kinds
    ]
    labels = [_MARKER_LABEL[k] for k in kinds]
    handles.append(Rectangle((0, 0), 1, 1, facecolor="#f1f5f9", edgecolor="#cbd5e1"))
    labels.append("after now")
    figure.legend(
        handles,
        labels,
        loc="upper center",
        ncols=len(labels),
        frameon=False,
        fontsize=8.5,
        bbox_to_anchor=(0.5, 1.0),
        handlelength=2.0,
    )
