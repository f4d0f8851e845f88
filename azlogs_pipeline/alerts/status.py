"""What `azlogs status` and `azlogs run` say about alert delivery."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from azlogs_pipeline.alerts.state import delivery_counts
from azlogs_pipeline.config import AlertSettings


def status_lines(data_dir: Path, settings: AlertSettings) -> list[str]:
    """One line on delivery totals (none when alerts are off and were never on)."""
    counts = delivery_counts(data_dir)
    if settings.webhook_url is None and counts is None:
        return []
    head = (
        f"alerts: webhook configured, min severity {settings.min_severity}"
        if settings.webhook_url is not None
        else "alerts: AZLOGS_ALERT_WEBHOOK_URL not set"
    )
    if counts is None:
        return [f"{head}; nothing delivered yet"]
    line = (
        f"{head}; delivered {counts.delivered}, in digests {counts.digested}, "
        f"undelivered {counts.pending}"
    )
    if counts.pending:
        line += f" (pending since {counts.oldest_pending}, last error {counts.last_error or '-'})"
    return [line]


def pass_line(metadata: Mapping[str, object]) -> str:
    """One line on a delivery pass, from `alert_deliveries`' metadata."""
    if metadata.get("error"):
        return f"alerts: the delivery pass failed: {metadata['error']}"
    if metadata.get("skipped"):
        return f"alerts: {metadata['skipped']}"
    line = (
        f"alerts: {metadata.get('new_findings', 0)} new findings; posted {metadata.get('posted', 0)}, "
        f"{metadata.get('in_digest', 0)} in {metadata.get('digests', 0)} digest(s); "
        f"undelivered {metadata.get('undelivered', 0)}"
    )
    if metadata.get("errors"):
        line += f" (errors: {metadata['errors']}; retried by the next pass)"
    return line
