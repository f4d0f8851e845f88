"""The report's HTML: one page, styles and charts inline, every data value escaped.

Its Content-Security-Policy allows nothing from outside the page (no script at all, inline styles
only), so even a browser that is online loads nothing else for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from azlogs_pipeline.daily_report.charts import SEVERITY_COLORS, Chart
from azlogs_pipeline.daily_report.data import ReportData

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #1d2330; background: #f4f6fa; }
header { background: #1d2b4f; color: #fff; padding: 18px 32px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; opacity: .8; }
main { padding: 8px 32px 40px; max-width: 1200px; }
section { background: #fff; border-radius: 8px; padding: 14px 20px; margin: 16px 0;
          box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { font-size: 17px; margin: 0 0 8px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { background: #fff; border-radius: 8px; padding: 10px 18px; min-width: 130px;
        box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.card b { display: block; font-size: 22px; }
.pair { display: flex; gap: 16px; flex-wrap: wrap; }
.pair > figure { flex: 1 1 460px; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e4e8ef; vertical-align: top; }
th { background: #eef1f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.sev { color: #fff; border-radius: 4px; padding: 1px 6px; font-size: 12px; font-weight: 600; }
.none { color: #6b7385; font-style: italic; }
code { font-size: 12px; color: #4a5468; }
"""


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return escape(f"{value.astimezone(UTC):%Y-%m-%d %H:%M}")
    if isinstance(value, float):
        return escape(f"{value:,.1f}")
    if isinstance(value, int) and not isinstance(value, bool):
        return escape(f"{value:,}")
    return escape("" if value is None else str(value))


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], empty: str) -> str:
    if not rows:
        return f'<p class="none">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    body = []
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            if key == "severity":
                color = SEVERITY_COLORS.get(str(value), "#7a869a")
                cells.append(
                    f'<td><span class="sev" style="background:{color}">{_cell(value)}</span></td>'
                )
            elif key == "detection_id":
                cells.append(f"<td><code>{_cell(str(value)[:12])}</code></td>")
            elif isinstance(value, int | float) and not isinstance(value, bool):
                cells.append(f'<td class="num">{_cell(value)}</td>')
            else:
                cells.append(f"<td>{_cell(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(chart: Chart) -> str:
    return (
        f'<figure class="chart" data-chart="{escape(chart.name)}" data-points="{chart.points}" '
        f'role="img" aria-label="{escape(chart.title)}">{chart.svg}</figure>'
    )


def _cards(data: ReportData) -> str:
    attempts = sum(int(r["attempts"]) for r in data.signins_per_hour)
    failures = sum(int(r["failures"]) for r in data.signins_per_hour)
    severities = {s: sum(1 for f in data.findings if f["severity"] == s) for s in SEVERITY_COLORS}
    cards = [
        ("sign-ins", f"{attempts:,}"),
        ("failed sign-ins", f"{failures:,}"),
        ("findings", f"{len(data.findings):,}"),
        *((f"{s} severity", f"{n:,}") for s, n in severities.items()),
        ("risky users listed", f"{len(data.top_risky_users):,}"),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card"><b>{escape(v)}</b>{escape(k)}</div>' for k, v in cards
    ) + "</div>"  # fmt: skip


def render_html(data: ReportData, charts: Sequence[Chart], generated_at: datetime) -> str:
    """The whole page."""
    by_name = {chart.name: chart for chart in charts}
    sections = [
        ("Sign-ins and failures per hour", _figure(by_name["signins_per_hour"])),
        (
            "Failures by error code and country",
            '<div class="pair">'
            + _figure(by_name["failures_by_error_code"])
            + _figure(by_name["failures_by_country"])
            + "</div>",
        ),
        ("Detections timeline", _figure(by_name["detections_timeline"])),
        (
            "Findings",
            _table(
                data.findings,
                [
                    ("severity", "severity"),
                    ("detection", "detection"),
                    ("entity", "entity"),
                    ("window_start", "from (UTC)"),
                    ("window_end", "until (UTC)"),
                    ("description", "what happened"),
                    ("detection_id", "detection_id"),
                ],
                "No findings this day.",
            ),
        ),
        (
            "Top risky users",
            _table(
                data.top_risky_users,
                [
                    ("rank", "#"),
                    ("user", "user"),
                    ("risk_level", "risk level"),
                    ("risk_state", "risk state"),
                    ("detections_7d", "risk detections 7 d"),
                    ("risky_signins_7d", "risky sign-ins 7 d"),
                    ("failed_signins_24h", "failed sign-ins 24 h"),
                    ("countries_7d", "countries 7 d"),
                ],
                "No risky users as of this day.",
            ),
        ),
        (
            "Feed health",
            _table(
                data.feed_health,
                [
                    ("category", "category"),
                    ("records", "records"),
                    ("hours_with_records", "hours with records (of 24)"),
                    ("median_delay_min", "median delay (min)"),
                    ("p95_delay_min", "p95 delay (min)"),
                ],
                "No records arrived for this day.",
            )
            + _figure(by_name["records_per_hour"]),
        ),
    ]
    body = "".join(
        f'<section id="{escape(title.lower().replace(" ", "-"))}"><h2>{escape(title)}</h2>'
        f"{content}</section>"
        for title, content in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>azlogs security report {escape(data.day)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<header><h1>Security report {escape(data.day)} (UTC)</h1>"
        f"<p>Entra ID and Azure Activity logs collected by azlogs; generated "
        f"{generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC</p></header>"
        f"<main>{_cards(data)}{body}</main></body></html>\n"
    )
