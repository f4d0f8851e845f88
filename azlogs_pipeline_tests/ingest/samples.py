"""Small realistic records of each kind, for the ingest tests."""

from __future__ import annotations

from typing import Any

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TENANT_RESOURCE = f"/tenants/{TENANT}/providers/Microsoft.aadiam"


def sign_in(
    created: str = "2025-03-01T10:15:30.1234567Z", *, record_id: str = "a1", **top: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "time": "2025-03-01T10:21:00.0000000Z",
        "resourceId": TENANT_RESOURCE,
        "operationName": "Sign-in activity",
        "category": "SignInLogs",
        "tenantId": TENANT,
        "resultType": "50126",
        "Level": 4,
        "properties": {
            "id": record_id,
            "createdDateTime": created,
            "userPrincipalName": "alice@contoso.com",
            "ipAddress": "203.0.113.7",
            "status": {"errorCode": 50126, "failureReason": "Invalid username or password."},
            "location": {"city": "Berlin", "countryOrRegion": "DE"},
        },
    }
    record.update(top)
    return record


def audit(activity: str = "2025-03-01T08:00:05.12Z") -> dict[str, Any]:
    return {
        "time": "2025-03-01T08:04:00Z",
        "resourceId": TENANT_RESOURCE,
        "operationName": "Add member to role",
        "category": "AuditLogs",
        "tenantId": TENANT,
        "properties": {"id": "Directory_1", "activityDateTime": activity, "result": "success"},
    }


def activity(time: str = "2025-03-01T07:30:00.123456789Z") -> dict[str, Any]:
    return {
        "time": time,
        "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VM/X",
        "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
        "category": "Administrative",
        "resultType": "Success",
        "identity": "bob@contoso.com",
        "properties": {"statusCode": "Created"},
    }


def pascal_sign_in() -> dict[str, Any]:
    """A Log-Analytics-style service-principal sign-in: PascalCase, no `time`, JSON in strings."""
    return {
        "Category": "ServicePrincipalSignInLogs",
        "CreatedDateTime": "2025-03-01T11:59:59.9999999+00:00",
        "TenantId": TENANT,
        "ResourceId": TENANT_RESOURCE.lower(),
        "OperationName": "Sign-in activity",
        "AppId": "00000003-0000-0000-c000-000000000000",
        "IPAddress": "198.51.100.4",
        "ResultType": "0",
        "DurationMs": "828",
        "Status": '{"errorCode":0}',
        "LocationDetails": '{"city":"Oslo","countryOrRegion":"NO"}',
    }
