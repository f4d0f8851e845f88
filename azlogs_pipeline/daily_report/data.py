"""What the daily report shows, read from the catalog for one UTC day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from azlogs_pipeline.alerts.findings import findings_source
from azlogs_pipeline.sql_files import read_sql

SQL_PACKAGE = "azlogs_pipeline.daily_report"
TOP = 12
"""Rows in the ranked sections (error codes, countries, risky users)."""

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class ReportData:
    day_start: datetime
    signins_per_hour: Rows
    failures_by_error_code: Rows
    failures_by_country: Rows
    findings: Rows
    top_risky_users: Rows
    feed_health: Rows
    records_per_hour: Rows

    @property
    def day(self) -> str:
        return f"{self.day_start:%Y-%m-%d}"


def load_report_data(con: duckdb.DuckDBPyConnection, day_start: datetime) -> ReportData:
    """Every section's rows for the UTC day starting at `day_start`."""
    bounds = {"day_start": day_start, "day_end": day_start + timedelta(days=1)}

    def rows(name: str, **extra: object) -> Rows:
        query = read_sql(SQL_PACKAGE, name).replace("{source}", findings_source())
        cursor = con.execute(query, {**bounds, **extra})
        columns = [d[0] for d in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    return ReportData(
        day_start=day_start,
        signins_per_hour=rows("signins_per_hour.sql"),
        failures_by_error_code=rows("failures_by_error_code.sql", limit=TOP),
        failures_by_country=rows("failures_by_country.sql", limit=TOP),
        findings=rows("day_findings.sql"),
        top_risky_users=rows("top_risky_users.sql", limit=TOP),
        feed_health=rows("feed_health.sql"),
        records_per_hour=rows("records_per_hour.sql"),
    )


def busiest_day(con: duckdb.DuckDBPyConnection) -> str | None:
    """The UTC day (`YYYY-MM-DD`) with the most sign-ins in the catalog, None when there are none."""
    row = con.execute(read_sql(SQL_PACKAGE, "busiest_day.sql")).fetchone()
    return str(row[0]) if row else None
