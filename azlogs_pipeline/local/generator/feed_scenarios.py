"""Injected attacks on this pipeline's own feed (Activity log), and a category gone silent.

The look-alikes are in the background: diagnostic settings read (never changed) in the Activity
log, and ProvisioningLogs that stop every night (``traffic.NIGHT_ONLY_GAPS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .times import MINUTE, SECOND
from .traffic import Item

if TYPE_CHECKING:
    from .scenarios import Planner, Scenario

FEED_KINDS = ("log_feed_tampered",)
FEED_RULES = {
    "log_feed_tampered": "a diagnostic setting deleted or changed, or an Event Hub (namespace) "
    "deleted or its keys regenerated (Activity log success)",
    "category_went_silent": "a category that arrived in every hour of the history has no record "
    "for N hours",
}
FEED_COST = {"log_feed_tampered": 2}
TAMPER_OPERATION = "microsoft.aadiam/diagnosticSettings/delete"
TAMPERED_SETTING = "/providers/microsoft.aadiam/diagnosticSettings/azlogs-to-eventhub"


def _set_operation(rec: dict[str, Any], operation: str, resource: str, result: str) -> None:
    rec["operationName"] = operation
    rec["resourceId"] = resource
    rec["resultType"] = result
    rec["resultSignature"] = "Started." if result == "Start" else "Succeeded."
    rec["level"] = "Informational"
    props = rec.get("properties")
    if isinstance(props, dict):
        props.update(entity=resource, message=operation, statusCode=result)
    identity = rec.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("authorization"), dict):
        identity["authorization"].update(action=operation, scope=resource)


def log_feed_tampered(planner: Planner) -> Scenario | str:
    """Entra's diagnostic setting that feeds the Event Hub deleted: Start, then Success."""
    from .scenarios import Scenario

    t = planner.slot(5 * MINUTE)
    if t is None:
        return "run too short"
    activity = planner.activity
    items: list[Item] = []
    for offset, result in ((0, "Start"), (20 * SECOND, "Success")):
        rec = activity.record(t + offset, "Administrative")
        _set_operation(rec, TAMPER_OPERATION, TAMPERED_SETTING, result)
        rec["correlationId"] = items[0].rec["correlationId"] if items else rec["correlationId"]
        items.append(Item(t + offset + MINUTE, t + offset, "Administrative", rec))
    return Scenario(
        "log_feed_tampered",
        TAMPERED_SETTING,
        "resource",
        t,
        t + 20 * SECOND,
        [],
        items,
        {"operation": TAMPER_OPERATION},
        record_ids=[],
    )


FEED_SCENARIOS = {"log_feed_tampered": log_feed_tampered}
