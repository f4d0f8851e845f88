"""audit_logs: golden rows from quirky records, one row per record_id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from azlogs_pipeline.ingest.records import record_id
from azlogs_pipeline_tests.normalize.raw_fixtures import DEFAULT_ENQUEUED, build_rows, write_raw

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
HOUR = datetime(2025, 3, 1, 8, tzinfo=UTC)


def audit(audit_id: str = "Directory_1", **props: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "time": "2025-03-01T08:04:00Z",
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": "Add member to role",
        "category": "AuditLogs",
        "tenantId": TENANT,
        "correlationId": "corr-top",
        "properties": {
            "id": audit_id,
            "category": "RoleManagement",
            "activityDisplayName": "Add member to role",
            "activityDateTime": "2025-03-01T08:00:05.12Z",
            "operationType": "Assign",
            "result": "success",
            "resultReason": "",
            "loggedByService": "Core Directory",
            "correlationId": "corr-1",
            "initiatedBy": {
                "user": {
                    "id": "admin-id",
                    "userPrincipalName": "admin@contoso.com",
                    "displayName": None,
                    "ipAddress": "198.51.100.9",
                }
            },
            "targetResources": [
                {
                    "id": "user-1",
                    "displayName": None,
                    "type": "User",
                    "userPrincipalName": "bob@contoso.com",
                    "modifiedProperties": [
                        {
                            "displayName": "Role.DisplayName",
                            "oldValue": None,
                            "newValue": '"Global Administrator"',
                        }
                    ],
                },
                {
                    "id": "role-1",
                    "displayName": "Global Administrator",
                    "type": "Role",
                    "modifiedProperties": [],
                },
            ],
            "additionalDetails": [{"key": "User-Agent", "value": "Portal"}],
        },
    }
    record["properties"].update(props)
    return record


def test_audit_golden_row(tmp_path: Path) -> None:
    record = audit()
    write_raw(tmp_path, [record])
    [row] = build_rows(tmp_path, "audit_logs", HOUR)
    assert row == {
        "id": "Directory_1",
        "event_time": datetime(2025, 3, 1, 8, 0, 5, 120000, tzinfo=UTC),
        "category": "AuditLogs",
        "audit_category": "RoleManagement",
        "activity_display_name": "Add member to role",
        "operation_type": "Assign",
        "result": "success",
        "result_reason": None,
        "logged_by_service": "Core Directory",
        "initiated_by_user_id": "admin-id",
        "initiated_by_upn": "admin@contoso.com",
        "initiated_by_ip": "198.51.100.9",
        "initiated_by_app_id": None,
        "initiated_by_app_name": None,
        "target_ids": ["user-1", "role-1"],
        "target_names": [None, "Global Administrator"],
        "target_upns": ["bob@contoso.com", None],
        "target_types": ["User", "Role"],
        "modified_properties": [
            {
                "target_id": "user-1",
                "display_name": "Role.DisplayName",
                "old_value": None,
                "new_value": '"Global Administrator"',
            }
        ],
        "additional_details": [{"key": "User-Agent", "value": "Portal"}],
        "record_id": record_id(record),
        "tenant_id": TENANT,
        "correlation_id": "corr-1",
        "eventhub": "insights-logs-test",
        "partition_id": "0",
        "sequence_number": 0,
        "enqueued_time": DEFAULT_ENQUEUED,
    }


def test_audit_quirks(tmp_path: Path) -> None:
    numeric = audit("a-num", result=0, activityDateTime="3/1/2025 8:30:00 AM")
    failed = audit("a-fail", result=1, resultReason="Insufficient privileges")
    app = audit(
        "a-app",
        result="Success",
        initiatedBy={"app": {"appId": "app-9", "displayName": "Provisioner"}},
        correlationId=None,
    )
    app["callerIpAddress"] = "&lt;null&gt;"
    # modifiedProperties values as JSON (not strings): kept as their JSON text
    structured = audit("a-json")
    structured["properties"]["targetResources"][0]["modifiedProperties"][0]["newValue"] = [
        "x",
        1,
    ]
    encoded = audit("a-enc")
    encoded["properties"] = orjson.dumps(encoded["properties"]).decode()
    write_raw(tmp_path, [numeric, failed, app, structured, encoded])
    rows = {r["id"]: r for r in build_rows(tmp_path, "audit_logs", HOUR)}
    assert rows["a-num"]["result"] == "success"
    assert rows["a-num"]["event_time"] == datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    assert (rows["a-fail"]["result"], rows["a-fail"]["result_reason"]) == (
        "failure",
        "Insufficient privileges",
    )
    a = rows["a-app"]
    assert (a["result"], a["initiated_by_app_id"], a["initiated_by_app_name"]) == (
        "success",
        "app-9",
        "Provisioner",
    )
    assert (a["initiated_by_upn"], a["initiated_by_ip"]) == (None, None)
    assert a["correlation_id"] == "corr-top"
    assert rows["a-json"]["modified_properties"][0]["new_value"] == '["x",1]'
    assert rows["a-enc"]["target_types"] == ["User", "Role"]


def test_audit_exact_duplicates_collapse_to_the_first_delivery(tmp_path: Path) -> None:
    record = audit()
    write_raw(tmp_path, [record, record])
    write_raw(tmp_path, [record], eventhub="another-hub")
    [row] = build_rows(tmp_path, "audit_logs", HOUR)
    assert (row["eventhub"], row["sequence_number"]) == ("another-hub", 0)
