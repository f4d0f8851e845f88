"""Numbers and previews of the summaries, shared by Dagster metadata and the printed reports.

`report_lines` reads the analysts' catalog (read-only) and is what `azlogs run` and `make demo`
print at the end; the other helpers work on one built partition's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.summarize.build import read_sql
from azlogs_pipeline.vocabulary import (
    DIRECTORY_DETECTION_KINDS,
    FEED_DETECTION_KINDS,
    SESSION_DETECTION_KINDS,
    SIGNIN_DETECTION_KINDS,
)

FAMILY_KINDS: dict[str, tuple[str, ...]] = {
    "signin_detections": SIGNIN_DETECTION_KINDS,
    "directory_detections": DIRECTORY_DETECTION_KINDS,
    "session_detections": SESSION_DETECTION_KINDS,
    "feed_detections": FEED_DETECTION_KINDS,
}
"""Detection family (summary) -> the detections it raises."""
DETECTION_KINDS: tuple[str, ...] = tuple(k for kinds in FAMILY_KINDS.values() for k in kinds)
"""Every detection of every family (the `detections` view), in the order reports list them."""

SIGNIN_COUNTS: tuple[str, ...] = (
    "attempts",
    "successes",
    "failures",
    "interrupts",
    "mfa_required",
    "legacy_auth",
    "ca_failures",
    "risky_signins",
)
"""The additive counts of `signin_summary`."""


def detection_counts(rows: pa.Table, kinds: Sequence[str] = DETECTION_KINDS) -> dict[str, int]:
    """Detections per kind in a family's rows (every one of `kinds`, zeros included)."""
    counts = dict.fromkeys(kinds, 0)
    for kind in rows.column("detection").to_pylist() if rows.num_rows else []:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def signin_totals(rows: pa.Table) -> dict[str, int]:
    """The additive counts of `signin_summary` rows, summed."""
    return {
        name: int(sum(v or 0 for v in rows.column(name).to_pylist())) if rows.num_rows else 0
        for name in SIGNIN_COUNTS
    }


def top_rows(
    rows: pa.Table, sort_keys: Sequence[tuple[str, str]], columns: Sequence[str], limit: int = 10
) -> list[dict[str, Any]]:
    """The first `limit` rows by `sort_keys` ((column, "ascending"|"descending")), `columns` only."""
    if not rows.num_rows:
        return []
    ordered = rows.sort_by(list(sort_keys)).slice(0, limit)
    return ordered.select(list(columns)).to_pylist()


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A Markdown table of `rows` (for Dagster's metadata preview); a note when there are none."""
    if not rows:
        return "_no rows in this partition_"

    def cell(value: object) -> str:
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value[:5]) + (" ..." if len(value) > 5 else "")
        text = "" if value is None else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def markdown_preview(
    rows: pa.Table, sort_keys: Sequence[tuple[str, str]], columns: Sequence[str], limit: int = 10
) -> str:
    """`markdown_table` of the `top_rows`: a summary partition's preview in run metadata."""
    return markdown_table(top_rows(rows, sort_keys, columns, limit), columns)


def report_lines(con: duckdb.DuckDBPyConnection, limit: int = 10) -> list[str]:
    """A short text report of the sign-in summary and the detections, from the catalog."""
    lines: list[str] = []
    columns, rows = _query(con, "report_signin_totals.sql")
    values = dict(zip(columns, rows[0], strict=True)) if rows else {}
    hours = int(values.pop("hours", 0) or 0)
    lines.append(
        f"Sign-ins over {hours} hours: "
        + ", ".join(f"{name} {int(values.get(name) or 0):,}" for name in SIGNIN_COUNTS)
    )
    lines.append("Where sign-ins fail most:")
    lines += _format(*_query(con, "report_top_failures.sql", limit))
    counts = {str(kind): int(n) for kind, n in _query(con, "report_detection_counts.sql")[1]}
    lines.append(
        "Detections: " + ", ".join(f"{kind} {counts.get(kind, 0)}" for kind in DETECTION_KINDS)
    )
    lines += _format(*_query(con, "report_detections.sql", limit))
    return lines


def _query(
    con: duckdb.DuckDBPyConnection, sql_file: str, limit: int | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    params = {"limit": limit} if limit is not None else None
    cursor = con.execute(read_sql(sql_file), params)
    rows = cursor.fetchall()
    return [d[0] for d in cursor.description or []], rows


def text_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, rule: bool = False
) -> list[str]:
    """Rows as aligned text lines under a header (and a dashed rule under it with `rule`)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    if rule:
        lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return lines


def _format(columns: list[str], rows: list[tuple[Any, ...]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    return ["  " + line for line in text_table(columns, rows)]


def print_report(data_dir: Path, limit: int = 10) -> None:
    """Print `report_lines` from the catalog under `data_dir` (`azlogs run`, `make demo`)."""
    with connect_read_only(data_dir) as con:
        for line in report_lines(con, limit):
            print(line)
