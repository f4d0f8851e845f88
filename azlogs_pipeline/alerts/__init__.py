"""Findings reach people: each finding POSTed once to an incoming webhook (Teams, Slack, any).

The delivery rule (one pass = one materialization of the `alert_deliveries` asset, after builds):

1. Read every finding of the catalog's detections view at or above `AZLOGS_ALERT_MIN_SEVERITY`.
2. A finding is new when its `detection_id` (stable across rebuilds) is not in the state store,
   `<data dir>/alerts/deliveries.sqlite` (ids, outcomes and error kinds; never the URL). New ones
   are recorded as pending, so rebuilt hours, restarts and backfills never resend a finding.
3. Pending findings are posted one by one, a JSON object with the finding's columns and a `text`
   line Teams and Slack show as is, when they are fresh: the finding's window ended at most
   `AZLOGS_ALERT_MAX_AGE_HOURS` (24) ago and the pass has at most `AZLOGS_ALERT_MAX_POSTS` (20)
   of them. The others (a backfill of last month, a burst, long-late data) go into one digest per
   pass: counts per detection and severity, the first findings, and every `detection_id`.
4. Each post is retried with backoff (3 attempts); a dead endpoint ends the pass at its first
   unreachable post, and the pass has a time budget. What failed stays pending and is retried by
   the next pass; the asset never fails a run for it: its metadata counts undelivered findings, a
   check warns, `azlogs status` shows them. A post whose response was lost may be sent again
   (at-least-once).
"""

from azlogs_pipeline.alerts.deliver import DeliveryResult, deliver_alerts
from azlogs_pipeline.alerts.findings import findings_source
from azlogs_pipeline.alerts.state import DeliveryCounts, delivery_counts

__all__ = [
    "DeliveryCounts",
    "DeliveryResult",
    "deliver_alerts",
    "delivery_counts",
    "findings_source",
]
