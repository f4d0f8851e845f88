"""provisioning_logs: golden rows from quirky records, one row per record_id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azlogs_pipeline.ingest.records import record_id
from azlogs_pipeline_tests.normalize.raw_fixtures import DEFAULT_ENQUEUED, build_rows, write_raw

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
HOUR = datetime(2025, 3, 1, 18, tzinfo=UTC)


def provisioning(prov_id: str = "p1", **props: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "time": "2025-03-01T18:20:00Z",
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": "Provisioning activity",
        "category": "ProvisioningLogs",
        "tenantId": TENANT,
        "resultType": "Failure",
        "durationMs": "0",
        "correlationId": "corr-top",
        "properties": {
            "id": prov_id,
            "activityDateTime": "3/1/2025 6:11:52 PM",
            "jobId": "SCIM.job",
            "cycleId": "cycle-1",
            "changeId": "change-1",
            "action": "Create",
            "provisioningAction": "create",
            "durationInMilliseconds": "4498",
            "provisioningStatusInfo": {
                "status": "failure",
                "errorInformation": {
                    "errorCode": "SalesforceDuplicateUserName",
                    "reason": "Duplicate user name",
                    "errorCategory": "NonServiceFailure",
                },
            },
            "provisioningSteps": [
                {
                    "name": "EntryImport",
                    "provisioningStepType": "import",
                    "status": "success",
                    "description": "imported",
                },
                {
                    "name": "EntryExport",
                    "provisioningStepType": 5,
                    "status": 1,
                    "description": "export failed",
                },
            ],
            "servicePrincipal": {"Id": "sp-1", "Name": "Salesforce", "Type": "ServicePrincipal"},
            "sourceSystem": {"id": "sys-1", "displayName": "Azure Active Directory"},
            "targetSystem": {"id": "sys-2", "displayName": "Salesforce"},
            "sourceIdentity": {"id": "user-1", "displayName": "Ben", "identityType": "User"},
            "targetIdentity": {"Id": "sf-9", "Name": "ben@contoso.com", "Type": "User"},
            "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service"},
            "modifiedProperties": [
                {"displayName": "accountEnabled", "oldValue": None, "newValue": "True"}
            ],
        },
    }
    record["properties"].update(props)
    return record


def test_provisioning_golden_row(tmp_path: Path) -> None:
    record = provisioning()
    write_raw(tmp_path, [record])
    [row] = build_rows(tmp_path, "provisioning_logs", HOUR)
    assert row == {
        "id": "p1",
        "event_time": datetime(2025, 3, 1, 18, 11, 52, tzinfo=UTC),
        "category": "ProvisioningLogs",
        "job_id": "SCIM.job",
        "cycle_id": "cycle-1",
        "change_id": "change-1",
        "action": "create",
        "status": "failure",
        "error_code": "SalesforceDuplicateUserName",
        "error_reason": "Duplicate user name",
        "error_category": "NonServiceFailure",
        "source_system": "Azure Active Directory",
        "target_system": "Salesforce",
        "source_identity_id": "user-1",
        "source_identity_name": "Ben",
        "target_identity_id": "sf-9",
        "target_identity_name": "ben@contoso.com",
        "service_principal_id": "sp-1",
        "service_principal_name": "Salesforce",
        "initiated_by": "Azure AD Provisioning Service",
        "steps": [
            {
                "name": "EntryImport",
                "step_type": "import",
                "status": "success",
                "description": "imported",
            },
            {
                "name": "EntryExport",
                "step_type": "export",
                "status": "failure",
                "description": "export failed",
            },
        ],
        "modified_properties": [
            {"display_name": "accountEnabled", "old_value": None, "new_value": "True"}
        ],
        "duration_ms": 4498,
        "record_id": record_id(record),
        "tenant_id": TENANT,
        "correlation_id": "corr-top",
        "eventhub": "insights-logs-test",
        "partition_id": "0",
        "sequence_number": 0,
        "enqueued_time": DEFAULT_ENQUEUED,
    }


def test_provisioning_quirks(tmp_path: Path) -> None:
    numeric = provisioning("p-num", provisioningStatusInfo={"status": 2})
    fallback = provisioning("p-fallback", provisioningStatusInfo=None, action="Update")
    del fallback["properties"]["provisioningAction"]
    fallback["resultType"] = "Skipped"
    odd = provisioning(
        "p-odd",
        servicePrincipal="not json at all",
        durationInMilliseconds="soon",
        provisioningSteps="[]",
    )
    odd["durationMs"] = "14.2187"
    duplicate = provisioning("p-dup")
    write_raw(tmp_path, [numeric, fallback, odd, duplicate, duplicate])
    rows = {r["id"]: r for r in build_rows(tmp_path, "provisioning_logs", HOUR)}
    assert rows["p-num"]["status"] == "skipped"
    assert (rows["p-fallback"]["status"], rows["p-fallback"]["action"]) == ("skipped", "update")
    o = rows["p-odd"]
    assert (o["service_principal_id"], o["service_principal_name"]) == (None, None)
    assert (o["duration_ms"], o["steps"]) == (14, None)
    assert len(rows) == 4
    assert rows["p-dup"]["sequence_number"] == 3
