"""The findings alerts and reports read: one catalog view, named by `findings_source`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from azlogs_pipeline.config import SEVERITIES
from azlogs_pipeline.sql_files import read_sql
from azlogs_pipeline.summarize.specs import DETECTION_FAMILIES

SQL_PACKAGE = "azlogs_pipeline.alerts"


def findings_source() -> str:
    """The catalog view holding every finding of every detection family (one row per finding,
    stable `detection_id`; `summarize/sql/detections_view.sql`)."""
    return "detections"


def detection_summaries() -> tuple[str, ...]:
    """The summaries whose rows that view holds (the alert and report assets' upstreams)."""
    return DETECTION_FAMILIES


def severity_rank(severity: str) -> int:
    """1 for low, 2 medium, 3 high (0 for anything else)."""
    return SEVERITIES.index(severity) + 1 if severity in SEVERITIES else 0


def load_findings(con: duckdb.DuckDBPyConnection, min_severity: str) -> list[dict[str, Any]]:
    """Every finding at or above `min_severity`, oldest first, as column -> value dicts."""
    query = read_sql(SQL_PACKAGE, "alert_findings.sql").replace("{source}", findings_source())
    cursor = con.execute(query, {"min_rank": severity_rank(min_severity)})
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def finding_json(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding's columns as JSON-ready values (times in ISO 8601 UTC)."""
    return {key: _plain(value) for key, value in finding.items()}


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
