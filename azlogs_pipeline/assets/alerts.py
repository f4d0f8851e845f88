"""`alert_deliveries`: new findings POSTed to the webhook after the detections are built (thin:
`azlogs_pipeline.alerts.deliver_alerts` does the work and keeps the delivery rule)."""

from collections.abc import Iterator

import dagster as dg

from azlogs_pipeline.alerts import deliver_alerts
from azlogs_pipeline.alerts.findings import detection_summaries, findings_source
from azlogs_pipeline.config import load_alert_settings
from azlogs_pipeline.resources import AzlogsSettings

CHECK_ALL_DELIVERED = "all_findings_delivered"

AFTER_THE_DETECTIONS = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("detections were rebuilt and none is in progress")
"""When the daemon runs a delivery pass: after detection hours were rebuilt, once none is still
being built (so a backfill gives few passes, each with at most one digest)."""


@dg.asset(
    name="alert_deliveries",
    group_name="alerts",
    kinds={"python"},
    deps=list(detection_summaries()),
    check_specs=[dg.AssetCheckSpec(CHECK_ALL_DELIVERED, asset="alert_deliveries")],
    automation_condition=AFTER_THE_DETECTIONS,
    description=(
        f"Every new finding of `{findings_source()}` at or above AZLOGS_ALERT_MIN_SEVERITY "
        "POSTed once to AZLOGS_ALERT_WEBHOOK_URL (backfills and bursts as one digest); "
        "delivered ids kept in <data dir>/alerts/. Failed posts are retried by the next pass "
        "and never fail the run."
    ),
)
def alert_deliveries(
    azlogs: AzlogsSettings,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    settings = load_alert_settings()
    result = deliver_alerts(azlogs.lake_data_dir(), settings)
    counts = result.counts
    yield dg.MaterializeResult(
        metadata={
            "webhook": "configured" if result.enabled else "not configured",
            "skipped": result.skipped or "",
            "min_severity": settings.min_severity,
            "findings": result.findings,
            "new_findings": result.new,
            "posted": result.posted,
            "digests": result.digests,
            "in_digest": result.digested,
            "failed_this_pass": result.failed,
            "errors": ", ".join(result.errors),
            "undelivered": counts.pending,
            "delivered_total": counts.delivered,
            "digested_total": counts.digested,
        }
    )
    yield dg.AssetCheckResult(
        check_name=CHECK_ALL_DELIVERED,
        passed=counts.pending == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description="Findings not yet delivered are retried by the next pass.",
        metadata={
            "undelivered": counts.pending,
            "oldest_undelivered_seen": counts.oldest_pending or "",
            "last_error": counts.last_error or "",
        },
    )
