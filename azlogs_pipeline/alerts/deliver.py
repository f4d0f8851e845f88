"""One delivery pass: new findings to the webhook, once each, or in a digest (see the package
docstring for the rule)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azlogs_pipeline.alerts.findings import finding_json, load_findings
from azlogs_pipeline.alerts.state import DeliveryCounts, delivery_lock, open_state
from azlogs_pipeline.alerts.webhook import DEFAULT_RETRY, PostOutcome, RetryPolicy, post_json
from azlogs_pipeline.config import AlertSettings, Secret
from azlogs_pipeline.lake.read_only import connect_read_only

PASS_BUDGET_SECONDS = 60.0
"""A pass stops starting posts after this long; the rest waits for the next pass."""
DIGEST_LISTED = 10
"""Findings a digest's `text` lists one per line (all ids are in `detection_ids`)."""

Poster = Callable[[Secret, dict[str, Any], RetryPolicy], PostOutcome]


@dataclass(frozen=True)
class DeliveryResult:
    """What one pass did, and the totals after it."""

    enabled: bool
    skipped: str | None = None
    """Why the pass delivered nothing (no webhook, another pass running, no catalog yet)."""
    findings: int = 0
    """Findings at or above the threshold in the detections view."""
    new: int = 0
    posted: int = 0
    digested: int = 0
    """Findings delivered in this pass's digest."""
    digests: int = 0
    failed: int = 0
    """Findings whose post (or digest) failed in this pass; they stay pending."""
    errors: tuple[str, ...] = ()
    counts: DeliveryCounts = field(default_factory=DeliveryCounts)


def deliver_alerts(
    data_dir: Path,
    settings: AlertSettings,
    *,
    now: datetime | None = None,
    policy: RetryPolicy = DEFAULT_RETRY,
    budget_seconds: float = PASS_BUDGET_SECONDS,
    post: Poster = post_json,
) -> DeliveryResult:
    """Deliver every finding not delivered yet; never raises for a failed post."""
    url = settings.webhook_url
    if url is None:
        return DeliveryResult(enabled=False, skipped="AZLOGS_ALERT_WEBHOOK_URL is not set")
    now = now or datetime.now(UTC)
    with delivery_lock(data_dir) as held:
        if not held:
            return DeliveryResult(enabled=True, skipped="another delivery pass is running")
        try:
            with connect_read_only(data_dir) as con:
                findings = load_findings(con, settings.min_severity)
        except FileNotFoundError:
            return DeliveryResult(enabled=True, skipped="no catalog yet (nothing built)")
        return _pass(data_dir, settings, url, findings, now, policy, budget_seconds, post)


def _pass(
    data_dir: Path,
    settings: AlertSettings,
    url: Secret,
    findings: list[dict[str, Any]],
    now: datetime,
    policy: RetryPolicy,
    budget_seconds: float,
    post: Poster,
) -> DeliveryResult:
    by_id = {str(f["detection_id"]): f for f in findings}
    started = time.monotonic()
    posted = failed = digested = digests = 0
    errors: list[str] = []
    with open_state(data_dir) as state:
        before = set(state.pending())
        state.add(findings, now)
        pending_ids = state.pending()
        state.withdraw(i for i in pending_ids if i not in by_id)
        pending = [by_id[i] for i in pending_ids if i in by_id]
        new = len([i for i in pending_ids if i in by_id and i not in before])
        fresh, old = _split(pending, now - timedelta(hours=settings.max_age_hours))
        if len(fresh) > settings.max_posts:
            fresh, old = [], pending
        stopped = False
        for finding in fresh:
            if time.monotonic() - started > budget_seconds:
                stopped = True
                break
            outcome = post(url, finding_payload(finding), policy)
            ids = [str(finding["detection_id"])]
            if outcome.ok:
                state.delivered(ids, "delivered", outcome.attempts, now)
                posted += 1
                continue
            state.failed(ids, outcome.error or "failed", outcome.attempts, now)
            failed += 1
            errors.append(outcome.error or "failed")
            if outcome.unreachable:
                stopped = True
                break
        if old and not stopped and time.monotonic() - started <= budget_seconds:
            outcome = post(url, digest_payload(old), policy)
            ids = [str(f["detection_id"]) for f in old]
            if outcome.ok:
                state.delivered(ids, "digested", outcome.attempts, now)
                digested, digests = len(old), 1
            else:
                state.failed(ids, outcome.error or "failed", outcome.attempts, now)
                failed += len(old)
                errors.append(outcome.error or "failed")
        counts = state.counts()
    return DeliveryResult(
        enabled=True,
        findings=len(findings),
        new=new,
        posted=posted,
        digested=digested,
        digests=digests,
        failed=failed,
        errors=tuple(dict.fromkeys(errors)),
        counts=counts,
    )


def _split(
    pending: list[dict[str, Any]], cutoff: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    fresh: list[dict[str, Any]] = []
    old: list[dict[str, Any]] = []
    for finding in pending:
        end = finding.get("window_end")
        (fresh if isinstance(end, datetime) and end >= cutoff else old).append(finding)
    return fresh, old


def _when(value: object) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if isinstance(value, datetime) else "?"


def finding_text(finding: dict[str, Any]) -> str:
    """The one line Teams and Slack show for a finding."""
    return (
        f"azlogs [{str(finding.get('severity', '')).upper()}] {finding.get('detection')}: "
        f"{finding.get('entity')}: {finding.get('description')} "
        f"(until {_when(finding.get('window_end'))})"
    )


def finding_payload(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding's columns plus `text`."""
    return {**finding_json(finding), "text": finding_text(finding)}


def digest_payload(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """One post for many findings: counts, the first `DIGEST_LISTED` findings, every id."""
    kinds = Counter(str(f.get("detection")) for f in findings)
    severities = Counter(str(f.get("severity")) for f in findings)
    ends = sorted(f["window_end"] for f in findings if isinstance(f.get("window_end"), datetime))
    span = f"{_when(ends[0])} .. {_when(ends[-1])}" if ends else "unknown times"
    lines = [
        f"azlogs digest: {len(findings)} findings from {span} (backfilled, late or a burst; "
        "query the detections view for all of them)",
        "By detection: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())),
        "By severity: " + ", ".join(f"{sev} {n}" for sev, n in sorted(severities.items())),
        *(finding_text(f) for f in findings[:DIGEST_LISTED]),
    ]
    if len(findings) > DIGEST_LISTED:
        lines.append(f"... and {len(findings) - DIGEST_LISTED} more")
    return {
        "kind": "digest",
        "text": "\n".join(lines),
        "findings": len(findings),
        "by_detection": dict(sorted(kinds.items())),
        "by_severity": dict(sorted(severities.items())),
        "first_window_end": finding_json({"t": ends[0]})["t"] if ends else None,
        "last_window_end": finding_json({"t": ends[-1]})["t"] if ends else None,
        "detection_ids": [str(f["detection_id"]) for f in findings],
    }
