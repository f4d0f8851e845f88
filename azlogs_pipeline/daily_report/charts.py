"""The report's charts: matplotlib figures rendered to SVG text, inlined into the page.

The object-oriented API (`Figure`, no pyplot) keeps no global state, so charts can be drawn in
any process or thread; text stays text in the SVG (`svg.fonttype: none`), so the page needs no
font and a reader (or a test) finds the labels in it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import matplotlib
from matplotlib import colors as mcolors
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from azlogs_pipeline.daily_report.data import ReportData

SEVERITY_COLORS = {"high": "#c62828", "medium": "#ef8f00", "low": "#7a869a"}
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    svg: str
    points: int
    """Data points drawn (0: the chart says there is nothing to show)."""


def _figure(width: float = 10.0, height: float = 2.8) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    figure.patch.set_alpha(0)
    return figure


def _svg(figure: Figure) -> str:
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "azlogs"}):
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _PROLOGUE.sub("", buffer.getvalue(), count=1)


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()


def signins_per_hour(data: ReportData) -> Chart:
    figure = _figure()
    axes = figure.add_subplot()
    rows = {_naive(row["hour"]).hour: row for row in data.signins_per_hour}
    hours = list(range(24))
    attempts = [int(rows[h]["attempts"]) if h in rows else 0 for h in hours]
    failures = [int(rows[h]["failures"]) if h in rows else 0 for h in hours]
    if rows:
        axes.bar(hours, attempts, color="#90b4e0", label="sign-ins")
        axes.bar(hours, failures, color="#c62828", label="failures")
        axes.set_xticks(hours[::2], [f"{h:02d}" for h in hours[::2]])
        axes.set_xlabel("hour (UTC)")
        axes.legend(loc="upper left", frameon=False)
        axes.spines[["top", "right"]].set_visible(False)
    else:
        _empty(axes, "no sign-ins this day")
    return Chart("signins_per_hour", "Sign-ins and failures per hour", _svg(figure), len(rows))


def _ranked(name: str, title: str, labels: Sequence[str], values: Sequence[int]) -> Chart:
    figure = _figure(width=5.4, height=max(1.6, 0.22 * len(labels) + 0.7))
    axes = figure.add_subplot()
    if labels:
        positions = list(range(len(labels)))[::-1]
        axes.barh(positions, values, color="#c62828")
        axes.set_yticks(positions, labels)
        axes.set_xlabel("failed sign-ins")
        axes.spines[["top", "right"]].set_visible(False)
        for y, value in zip(positions, values, strict=True):
            axes.annotate(f"{value:,}", (value, y), xytext=(3, 0), textcoords="offset points",
                          va="center")  # fmt: skip
    else:
        _empty(axes, "no failed sign-ins this day")
    return Chart(name, title, _svg(figure), len(labels))


def failures_by_error_code(data: ReportData) -> Chart:
    rows = data.failures_by_error_code
    return _ranked(
        "failures_by_error_code",
        "Failures by error code",
        [str(r["error_code"]) for r in rows],
        [int(r["failures"]) for r in rows],
    )


def failures_by_country(data: ReportData) -> Chart:
    rows = data.failures_by_country
    return _ranked(
        "failures_by_country",
        "Failures by country",
        [str(r["country"]) for r in rows],
        [int(r["failures"]) for r in rows],
    )


def detections_timeline(data: ReportData) -> Chart:
    kinds = sorted({str(f["detection"]) for f in data.findings})
    figure = _figure(height=max(1.8, 0.35 * len(kinds) + 0.9))
    axes = figure.add_subplot()
    if kinds:
        for severity, color in SEVERITY_COLORS.items():
            points = [f for f in data.findings if f["severity"] == severity]
            if points:
                axes.scatter(
                    [_x(f["window_end"]) for f in points],
                    [kinds.index(str(f["detection"])) for f in points],
                    color=color, label=severity, s=36, zorder=3,
                )  # fmt: skip
        axes.set_yticks(range(len(kinds)), kinds)
        axes.set_xlim(_x(data.day_start), _x(data.day_start + timedelta(days=1)))
        axes.xaxis.set_major_locator(mdates.HourLocator(byhour=range(0, 24, 3)))
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
        axes.set_xlabel("end of the finding's window (UTC)")
        axes.grid(axis="x", alpha=0.3)
        axes.legend(loc="upper left", bbox_to_anchor=(1, 1), frameon=False)
    else:
        _empty(axes, "no findings this day")
    return Chart("detections_timeline", "Detections timeline", _svg(figure), len(data.findings))


def records_per_hour(data: ReportData) -> Chart:
    """A heat map: one row per category, one column per hour, darker = more records; an empty
    cell in a category that usually arrives is what a silent feed looks like."""
    categories = sorted({str(r["category"]) for r in data.records_per_hour})
    figure = _figure(height=max(1.8, 0.16 * len(categories) + 0.8))
    axes = figure.add_subplot()
    if categories:
        grid = [[0.0] * 24 for _ in categories]
        for row in data.records_per_hour:
            grid[categories.index(str(row["category"]))][_naive(row["hour"]).hour] = float(
                row["records"]
            )
        image = axes.imshow(
            [[value if value else float("nan") for value in line] for line in grid],
            aspect="auto", cmap="Blues", norm=mcolors.LogNorm(vmin=1),
            interpolation="nearest",
        )  # fmt: skip
        axes.set_yticks(range(len(categories)), categories, fontsize=7)
        axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        axes.set_xlabel("hour (UTC); blank = no record")
        figure.colorbar(image, ax=axes, label="records", shrink=0.8)
    else:
        _empty(axes, "no records this day")
    return Chart(
        "records_per_hour",
        "Records per category and hour",
        _svg(figure),
        len(data.records_per_hour),
    )


def _naive(moment: datetime) -> datetime:
    """matplotlib's date axis in UTC: drop the zone after converting to UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _x(moment: datetime) -> float:
    """A UTC time as a position on matplotlib's date axis."""
    return float(mdates.date2num(_naive(moment)))


def all_charts(data: ReportData) -> list[Chart]:
    return [
        signins_per_hour(data),
        failures_by_error_code(data),
        failures_by_country(data),
        detections_timeline(data),
        records_per_hour(data),
    ]
