"""Write the daily report of a UTC day: read the catalog, draw, render, replace the file."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from azlogs_pipeline.daily_report.charts import all_charts
from azlogs_pipeline.daily_report.data import load_report_data
from azlogs_pipeline.daily_report.render import render_html
from azlogs_pipeline.lake.parquet import fsync_dir, temp_path_for
from azlogs_pipeline.lake.paths import daily_report_file
from azlogs_pipeline.lake.read_only import connect_read_only


@dataclass(frozen=True)
class ReportResult:
    path: Path
    day: str
    bytes_written: int
    signins: int
    findings: int
    charts: dict[str, int]
    """Chart name -> data points drawn."""


def parse_day(value: str) -> datetime:
    """The UTC midnight of a `YYYY-MM-DD` day; ValueError saying the form otherwise."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"--day {value!r} is not a day; give it as YYYY-MM-DD (UTC)") from None
    return day.replace(tzinfo=UTC)


def write_daily_report(data_dir: Path, day: str, out: Path | None = None) -> ReportResult:
    """Write the report of `day` (YYYY-MM-DD, UTC) to `out` (default
    `<data dir>/reports/security-report-<day>.html`), atomically."""
    day_start = parse_day(day)
    with connect_read_only(data_dir) as con:
        con.execute("SET TimeZone = 'UTC'")
        data = load_report_data(con, day_start)
    charts = all_charts(data)
    page = render_html(data, charts, datetime.now(UTC)).encode("utf-8")
    target = Path(out) if out is not None else daily_report_file(data_dir, day)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    try:
        tmp.write_bytes(page)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(target.parent)
    return ReportResult(
        path=target,
        day=day,
        bytes_written=len(page),
        signins=sum(int(r["attempts"]) for r in data.signins_per_hour),
        findings=len(data.findings),
        charts={chart.name: chart.points for chart in charts},
    )
