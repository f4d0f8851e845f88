"""Dagster metadata of the risk and audit summaries (risky_users_current, risk_events_daily,
top_risky_users, audit_highlights).

The assets themselves are made generically from their `SummarySpec`s by `assets/summarize.py`
(hourly or daily partitions, the look-back as a time-window partition mapping on the tables). This
module gives each of them its numbers (every known level or kind reported, zeros included, so the
UI plots a steady series) and a Markdown preview of its top rows. `risk_metadata(common)` returns
the metadata functions with `common` (row count, files, bytes, path) merged in, ready for the
`METADATA` table of `assets/summarize.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import dagster as dg
import pyarrow as pa

from azlogs_pipeline.summarize.build import SummaryResult
from azlogs_pipeline.summarize.report import markdown_preview

MetadataFn = Callable[[SummaryResult], dict[str, Any]]
PREVIEW_ROWS = 10
RISK_LEVELS = ("high", "medium", "low", "hidden", "none")
TIMINGS = ("realtime", "nearRealtime", "offline")
HIGHLIGHTS = (
    "privileged_role_assignment",
    "created_then_deleted",
    "guest_to_member",
    "app_credential_change",
)


def _column(rows: pa.Table, name: str) -> list[Any]:
    return rows.column(name).to_pylist() if rows.num_rows else []


def _per(prefix: str, values: Iterable[Any], known: tuple[str, ...]) -> dict[str, int]:
    """`<prefix>_<value>` counts, every known value present (0 when absent), others as found."""
    counts = Counter("unknown" if v is None else str(v) for v in values)
    return {f"{prefix}_{k}": counts.get(k, 0) for k in known} | {
        f"{prefix}_{k}": n for k, n in sorted(counts.items()) if k not in known
    }


def _preview(
    rows: pa.Table, sort_keys: list[tuple[str, str]], columns: list[str], limit: int = 10
) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown_preview(rows, sort_keys, columns, limit))


def risky_users_current_metadata(result: SummaryResult) -> dict[str, Any]:
    """Users at risk now, by level; users whose risk streak began in this hour."""
    rows = result.data
    risky = rows.filter(rows.column("is_risky")) if rows.num_rows else rows
    since = _column(risky, "risky_since")
    columns = ["user_principal_name", "risk_level", "risk_state", "risky_since"]
    return {
        "risky_users": risky.num_rows,
        **_per("risky_users", _column(risky, "risk_level"), RISK_LEVELS),
        "users_tracked": rows.num_rows,
        "became_risky_this_hour": sum(1 for t in since if t and t >= result.window_start),
        "preview": _preview(
            risky, [("risky_since", "descending"), ("user_id", "ascending")], columns, PREVIEW_ROWS
        ),
    }


def risk_events_daily_metadata(result: SummaryResult) -> dict[str, Any]:
    """Detections of the day, by level and by detection timing."""
    rows = result.data
    detections = _column(rows, "detections")
    by_level: Counter[str] = Counter()
    by_timing: Counter[str] = Counter()
    for level, timing, n in zip(
        _column(rows, "risk_level"), _column(rows, "detection_timing_type"), detections, strict=True
    ):
        by_level[level] += n
        by_timing[timing] += n
    columns = ["risk_event_type", "risk_level", "detection_timing_type", "detections"]
    return {
        "detections": sum(detections),
        **_per("detections", by_level.elements(), RISK_LEVELS),
        **_per("detections", by_timing.elements(), TIMINGS),
        "preview": _preview(
            rows, [("detections", "descending"), ("risk_event_type", "ascending")], columns
        ),
    }


def top_risky_users_metadata(result: SummaryResult) -> dict[str, Any]:
    """Users listed, by current level; the first ranks as a preview."""
    rows = result.data
    columns = [
        "rank",
        "user_principal_name",
        "risk_level",
        "risk_state",
        "detections_7d",
        "failed_signins_24h",
        "countries_7d",
    ]
    return {
        "users_listed": rows.num_rows,
        **_per("users", _column(rows, "risk_level"), RISK_LEVELS),
        "detections_7d": sum(_column(rows, "detections_7d")),
        "preview": _preview(rows, [("rank", "ascending")], columns),
    }


def audit_highlights_metadata(result: SummaryResult) -> dict[str, Any]:
    """Highlights of the hour, per kind."""
    rows = result.data
    columns = ["highlight", "event_time", "actor", "target_upn", "target_name", "detail"]
    return {
        "highlights": rows.num_rows,
        **_per("highlights", _column(rows, "highlight"), HIGHLIGHTS),
        "preview": _preview(
            rows, [("event_time", "ascending"), ("highlight", "ascending")], columns
        ),
    }


RISK_NUMBERS: dict[str, MetadataFn] = {
    "risky_users_current": risky_users_current_metadata,
    "risk_events_daily": risk_events_daily_metadata,
    "top_risky_users": top_risky_users_metadata,
    "audit_highlights": audit_highlights_metadata,
}
"""Each risk or audit summary's own numbers and preview."""


def _merged(common: MetadataFn, own: MetadataFn, result: SummaryResult) -> dict[str, Any]:
    return {**common(result), **own(result)}


def risk_metadata(common: MetadataFn) -> dict[str, MetadataFn]:
    """Summary name -> metadata function: `common` (what every summary reports) plus its own."""
    return {name: partial(_merged, common, own) for name, own in RISK_NUMBERS.items()}
