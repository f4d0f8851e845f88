"""Hand-built AuditLogs and Activity log records in the shapes Azure really sends (nested
`targetResources[]`, `modifiedProperties[]` whose oldValue/newValue are JSON sent as text,
`initiatedBy.user` or `initiatedBy.app`), landed in a raw lake and normalized like drained data."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from azlogs_pipeline.lake.paths import hour_start
from azlogs_pipeline.normalize.hour import build_hour
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ADMIN = {"id": "uid-admin", "upn": "admin@contoso.com", "ip": "198.51.100.7"}
_ids = itertools.count()
ENQUEUE_DELAY = timedelta(minutes=5)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def modified(name: str, old: Any, new: Any) -> dict[str, Any]:
    """A modified property as Azure sends it: each value JSON-encoded into a string."""
    return {
        "displayName": name,
        "oldValue": None if old is None else json.dumps(old),
        "newValue": None if new is None else json.dumps(new),
    }


def target(
    tid: str, name: str | None, kind: str, props: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": tid,
        "displayName": name,
        "type": kind,
        "modifiedProperties": props or [],
        "administrativeUnits": [],
        **extra,
    }


def by_user(user: dict[str, str] = ADMIN) -> dict[str, Any]:
    return {
        "user": {
            "id": user["id"],
            "displayName": None,
            "userPrincipalName": user["upn"],
            "ipAddress": user["ip"],
            "roles": [],
        }
    }


def by_app(name: str, app_id: str | None = None) -> dict[str, Any]:
    return {
        "app": {
            "appId": app_id,
            "displayName": name,
            "servicePrincipalId": "sp-" + name.lower(),
            "servicePrincipalName": None,
        }
    }


def audit(
    when: datetime,
    activity: str,
    targets: list[dict[str, Any]],
    *,
    service: str = "Core Directory",
    category: str = "ApplicationManagement",
    initiated: dict[str, Any] | None = None,
    result: str = "success",
) -> dict[str, Any]:
    """One AuditLogs record (Azure Monitor diagnostic-settings shape)."""
    n = next(_ids)
    corr = f"00000000-0000-4000-8000-{n:012d}"
    initiated = initiated or by_user()
    ip = (initiated.get("user") or {}).get("ipAddress") or "<null>"
    return {
        "time": iso(when + timedelta(minutes=2)),
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": activity,
        "operationVersion": "1.0",
        "category": "AuditLogs",
        "tenantId": TENANT,
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": ip,
        "correlationId": corr,
        "level": "Informational",
        "properties": {
            "id": f"Directory_{corr}_A{n:04d}_{n + 100000000}",
            "category": category,
            "correlationId": corr,
            "result": result,
            "resultReason": "",
            "activityDisplayName": activity,
            "activityDateTime": iso(when),
            "loggedByService": service,
            "operationType": "Update",
            "initiatedBy": initiated,
            "userAgent": None,
            "targetResources": targets,
            "additionalDetails": [],
        },
    }


def audit_id(record: dict[str, Any]) -> str:
    return str(record["properties"]["id"])


def land(data_dir: Path, records: list[dict[str, Any]], tables: list[str]) -> list[datetime]:
    """Land `records` in the raw lake, each hour's records enqueued a few minutes after the last
    of them (as Event Hubs would), and build `tables` for every hour they touch; the hours,
    oldest first."""
    by_hour: dict[datetime, list[tuple[datetime, dict[str, Any]]]] = {}
    for record in records:
        when = datetime.fromisoformat(
            str(record.get("properties", {}).get("activityDateTime") or record["time"]).replace(
                "Z", "+00:00"
            )
        )
        by_hour.setdefault(hour_start(when), []).append((when, record))
    for group in by_hour.values():
        enqueued = max(when for when, _ in group) + ENQUEUE_DELAY
        write_raw(data_dir, [record for _, record in group], enqueued)
    hours = sorted(by_hour)
    for hour in hours:
        build_hour(data_dir, hour, tables)
    return hours
