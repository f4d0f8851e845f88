"""signin_logs: golden rows from quirky records, and the one-row-per-sign-in rule."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from azlogs_pipeline.ingest.records import record_id
from azlogs_pipeline_tests.normalize.raw_fixtures import DEFAULT_ENQUEUED, build_rows, write_raw

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
HOME = "11111111-1111-1111-1111-111111111111"
RESOURCE = f"/tenants/{TENANT}/providers/Microsoft.aadiam"
HOUR = datetime(2025, 3, 1, 10, tzinfo=UTC)
POLICY_A = {
    "id": "pa",
    "displayName": "Require MFA for admins",
    "result": "success",
    "enforcedGrantControls": ["Mfa"],
    "enforcedSessionControls": [],
}
POLICY_B = {
    "id": "pb",
    "displayName": "Block legacy auth",
    "result": "notApplied",
    "enforcedGrantControls": [],
    "enforcedSessionControls": [],
}


def interactive(signin_id: str = "s1", **props: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "time": "2025-03-01T10:21:00.0000000Z",
        "resourceId": RESOURCE,
        "operationName": "Sign-in activity",
        "category": "SignInLogs",
        "tenantId": TENANT,
        "resultType": "0",
        "durationMs": 0,
        "correlationId": "corr-top",
        "Level": 4,
        "properties": {
            "id": signin_id,
            "createdDateTime": "2025-03-01T10:15:30.1234567+00:00",
            "userId": "u1",
            "userPrincipalName": "alice@contoso.com",
            "userDisplayName": "Alice",
            "userType": "Member",
            "appId": "app1",
            "appDisplayName": "Office 365",
            "resourceDisplayName": "Office 365 Exchange Online",
            "servicePrincipalId": "",
            "ipAddress": "203.0.113.7",
            "autonomousSystemNumber": 3320,
            "clientAppUsed": "Browser",
            "userAgent": "Mozilla/5.0",
            "isInteractive": True,
            "correlationId": "corr-1",
            "conditionalAccessStatus": "success",
            "authenticationRequirement": "multiFactorAuthentication",
            "status": {"errorCode": 0, "additionalDetails": "MFA completed in Azure AD"},
            "location": {
                "city": "Berlin",
                "state": "Berlin",
                "countryOrRegion": "DE",
                "geoCoordinates": {"latitude": 52.52, "longitude": 13.405},
            },
            "deviceDetail": {
                "deviceId": "d1",
                "displayName": "LAPTOP-1",
                "operatingSystem": "Windows10",
                "browser": "Edge 120.0",
                "isCompliant": True,
                "isManaged": True,
                "trustType": "Azure AD joined",
            },
            "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": "none",
            "riskState": "none",
            "riskDetail": "none",
            "riskEventTypes": [],
            "riskEventTypes_v2": [],
            "appliedConditionalAccessPolicies": [POLICY_A, POLICY_B],
            "authenticationDetails": [
                {
                    "authenticationMethod": "Password",
                    "authenticationStepRequirement": "Primary authentication",
                },
                {
                    "authenticationMethod": "Mobile app notification",
                    "authenticationStepRequirement": "Multifactor authentication",
                },
            ],
            "authenticationProcessingDetails": [
                {"key": "Oauth Scope Info", "value": '["openid","profile"]'}
            ],
            "tokenIssuerType": "AzureAD",
            "crossTenantAccessType": "b2bCollaboration",
            "homeTenantId": HOME,
            "sessionId": "sess-1",
            "authenticationProtocol": "none",
            "uniqueTokenIdentifier": "tok-1",
            "resourceTenantId": TENANT,
            "processingTimeInMilliseconds": 120,
        },
    }
    record["properties"].update(props)
    return record


def pascal_sp() -> dict[str, Any]:
    """Log-Analytics shape: PascalCase top-level keys, no `time`, nested objects as JSON text."""
    return {
        "Category": "ServicePrincipalSignInLogs",
        "CreatedDateTime": "2025-03-01T10:45:00.5Z",
        "TenantId": TENANT,
        "ResourceId": RESOURCE.lower(),
        "OperationName": "Sign-in activity",
        "Id": "sp1",
        "AppId": "sp-app",
        "ServicePrincipalId": "00000000-0000-0000-0000-000000000000",
        "ServicePrincipalName": "backup-job",
        "ResourceDisplayName": "Microsoft Graph",
        "IPAddress": "::2a02:1f:2e:0:0:1",
        "ResultType": "7000215",
        "DurationMs": "828",
        "CorrelationId": "corr-sp",
        "ConditionalAccessStatus": "notApplied",
        "ConditionalAccessPolicies": "[]",
        "Status": '{"errorCode":7000215,"failureReason":"Invalid client secret provided."}',
        "LocationDetails": '{"city":"Dublin","countryOrRegion":"IE",'
        '"geoCoordinates":{"latitude":"53.35","longitude":"-6.26"}}',
    }


def _row(rows: list[dict[str, Any]], signin_id: str) -> dict[str, Any]:
    [row] = [r for r in rows if r["id"] == signin_id]
    return row


def test_full_interactive_sign_in_golden_row(tmp_path: Path) -> None:
    record = interactive()
    write_raw(tmp_path, [record])
    [row] = build_rows(tmp_path, "signin_logs", HOUR)
    assert row == {
        "id": "s1",
        "event_time": datetime(2025, 3, 1, 10, 15, 30, 123456, tzinfo=UTC),
        "category": "SignInLogs",
        "signin_type": "interactive",
        "user_id": "u1",
        "user_principal_name": "alice@contoso.com",
        "user_display_name": "Alice",
        "user_type": "Member",
        "app_id": "app1",
        "app_display_name": "Office 365",
        "resource_display_name": "Office 365 Exchange Online",
        "service_principal_id": "",
        "service_principal_name": None,
        "ip_address": "203.0.113.7",
        "autonomous_system_number": 3320,
        "client_app_used": "Browser",
        "user_agent": "Mozilla/5.0",
        "is_interactive": True,
        "error_code": 0,
        "failure_reason": None,
        "additional_details": "MFA completed in Azure AD",
        "result": "success",
        "conditional_access_status": "success",
        "authentication_requirement": "multiFactorAuthentication",
        "mfa_methods": ["Mobile app notification"],
        "location_city": "Berlin",
        "location_state": "Berlin",
        "location_country": "DE",
        "latitude": 52.52,
        "longitude": 13.405,
        "device_id": "d1",
        "device_os": "Windows10",
        "device_browser": "Edge 120.0",
        "device_is_compliant": True,
        "device_is_managed": True,
        "device_trust_type": "Azure AD joined",
        "risk_level_aggregated": "none",
        "risk_level_during_signin": "none",
        "risk_state": "none",
        "risk_detail": "none",
        "risk_event_types": [],
        "applied_ca_policies": [POLICY_A, POLICY_B],
        "token_issuer_type": "AzureAD",
        "cross_tenant_access_type": "b2bCollaboration",
        "home_tenant_id": HOME,
        "resource_tenant_id": TENANT,
        "duration_ms": 120,
        "session_id": "sess-1",
        "authentication_protocol": "none",
        "unique_token_identifier": "tok-1",
        "record_id": record_id(record),
        "tenant_id": TENANT,
        "correlation_id": "corr-1",
        "eventhub": "insights-logs-test",
        "partition_id": "0",
        "sequence_number": 0,
        "enqueued_time": DEFAULT_ENQUEUED,
        "source_records": 1,
    }


def test_pascal_case_service_principal_sign_in(tmp_path: Path) -> None:
    write_raw(tmp_path, [pascal_sp()])
    row = _row(build_rows(tmp_path, "signin_logs", HOUR), "sp1")
    assert row["event_time"] == datetime(2025, 3, 1, 10, 45, 0, 500000, tzinfo=UTC)
    assert row["category"] == "ServicePrincipalSignInLogs"
    assert row["signin_type"] == "service_principal"
    assert (row["app_id"], row["service_principal_name"]) == ("sp-app", "backup-job")
    assert row["service_principal_id"] == "00000000-0000-0000-0000-000000000000"
    assert row["resource_display_name"] == "Microsoft Graph"
    assert row["ip_address"] == "::2a02:1f:2e:0:0:1"
    assert (row["error_code"], row["result"]) == (7000215, "failure")
    assert row["failure_reason"] == "Invalid client secret provided."
    assert (row["location_city"], row["location_country"]) == ("Dublin", "IE")
    assert (row["latitude"], row["longitude"]) == (53.35, -6.26)
    assert row["duration_ms"] == 828
    assert row["correlation_id"] == "corr-sp"
    assert row["tenant_id"] == TENANT
    assert row["conditional_access_status"] == "notApplied"
    assert row["applied_ca_policies"] == []
    assert row["user_id"] is None


def test_string_numbers_odd_ips_us_times_and_unparseable_values(tmp_path: Path) -> None:
    records = [
        # error code and ASN as strings, fractional duration string, US-locale creation time
        interactive(
            "n1",
            status={"errorCode": "50126", "failureReason": "Invalid username or password."},
            autonomousSystemNumber="3320",
            processingTimeInMilliseconds="14.2187",
            createdDateTime="3/1/2025 10:40:00 AM",
            ipAddress="127.0.0.0/8",
        ),
        # "no address" markers become NULL; redacted addresses stay as sent
        interactive("n2", ipAddress="&lt;null&gt;"),
        interactive("n3", ipAddress="<null>"),
        interactive("n4", ipAddress="10.1.2.XXX"),
        interactive("n5", ipAddress=""),
        # values that cannot be parsed become NULL; the error code falls back to resultType
        interactive(
            "n6",
            status={"errorCode": "not-a-number"},
            location={"geoCoordinates": {"latitude": "n/a", "longitude": None}},
            deviceDetail={"isCompliant": "perhaps", "operatingSystem": "PII Removed"},
            isInteractive="yes?",
            processingTimeInMilliseconds="-1",
        ),
    ]
    records[5]["resultType"] = "50140"
    write_raw(tmp_path, records)
    rows = build_rows(tmp_path, "signin_logs", HOUR)
    n1 = _row(rows, "n1")
    assert (n1["error_code"], n1["result"]) == (50126, "failure")
    assert n1["failure_reason"] == "Invalid username or password."
    assert (n1["autonomous_system_number"], n1["duration_ms"]) == (3320, 14)
    assert n1["event_time"] == datetime(2025, 3, 1, 10, 40, tzinfo=UTC)
    assert n1["ip_address"] == "127.0.0.0/8"
    assert [_row(rows, s)["ip_address"] for s in ("n2", "n3", "n4", "n5")] == [
        None,
        None,
        "10.1.2.XXX",
        None,
    ]
    n6 = _row(rows, "n6")
    assert (n6["error_code"], n6["result"]) == (50140, "interrupted")
    assert (n6["latitude"], n6["longitude"], n6["location_city"]) == (None, None, None)
    assert (n6["device_is_compliant"], n6["device_os"]) == (None, "PII Removed")
    assert (n6["is_interactive"], n6["duration_ms"]) == (None, -1)


def test_json_encoded_properties_and_look_alike_category(tmp_path: Path) -> None:
    encoded = interactive("j1")
    encoded["properties"] = orjson.dumps(encoded["properties"]).decode()
    look_alike = interactive("j2")
    look_alike["category"] = "MicrosoftServicePrincipalSignInLogs"
    broken = interactive("j3")
    broken["properties"] = '{"id": "j3", truncated'
    write_raw(tmp_path, [encoded, look_alike, broken])
    rows = build_rows(tmp_path, "signin_logs", HOUR)
    j1 = _row(rows, "j1")
    assert (j1["user_principal_name"], j1["error_code"], j1["location_city"]) == (
        "alice@contoso.com",
        0,
        "Berlin",
    )
    assert _row(rows, "j2")["signin_type"] == "service_principal"
    # Unparseable properties: the record is kept (by record id) with NULL fields.
    [kept] = [r for r in rows if r["id"] is None]
    assert kept["record_id"] == record_id(broken)
    assert kept["event_time"] == datetime(2025, 3, 1, 10, 21, tzinfo=UTC)
    assert len(rows) == 3


def test_risk_copy_wins_and_exact_duplicates_collapse(tmp_path: Path) -> None:
    original = interactive("r1")
    risk = copy.deepcopy(original)
    risk["time"] = "2025-03-01T10:40:00.0000000Z"
    risk["properties"].update(
        riskLevelAggregated="high",
        riskLevelDuringSignIn="high",
        riskState="atRisk",
        riskEventTypes_v2=["unfamiliarFeatures"],
        riskEventTypes=["unfamiliarFeatures"],
    )
    # the risk copy first (in delivery order), then the original twice (publishing retry)
    write_raw(tmp_path, [risk, original])
    write_raw(tmp_path, [original])
    [row] = build_rows(tmp_path, "signin_logs", HOUR)
    assert row["record_id"] == record_id(risk)
    assert (row["risk_level_aggregated"], row["risk_state"]) == ("high", "atRisk")
    assert row["risk_event_types"] == ["unfamiliarFeatures"]
    assert row["applied_ca_policies"] == [POLICY_A, POLICY_B]
    assert row["source_records"] == 3


def test_exact_duplicates_keep_the_first_delivery(tmp_path: Path) -> None:
    record = interactive("d1")
    write_raw(tmp_path, [record], eventhub="hub-b")
    write_raw(tmp_path, [record], eventhub="hub-a")
    write_raw(tmp_path, [record], eventhub="hub-a")
    [row] = build_rows(tmp_path, "signin_logs", HOUR)
    assert (row["eventhub"], row["sequence_number"]) == ("hub-a", 0)


def test_split_conditional_access_records_merge_their_policies(tmp_path: Path) -> None:
    first = interactive("c1", appliedConditionalAccessPolicies=[POLICY_B])
    second = interactive("c1", appliedConditionalAccessPolicies=[POLICY_A])
    second["time"] = "2025-03-01T10:22:00.0000000Z"
    write_raw(tmp_path, [first, second])
    [row] = build_rows(tmp_path, "signin_logs", HOUR)
    assert row["record_id"] == record_id(second)  # the most recently processed one
    assert row["applied_ca_policies"] == [POLICY_A, POLICY_B]
    assert row["source_records"] == 2


def test_signin_types_per_category(tmp_path: Path) -> None:
    categories = {
        "SignInLogs": "interactive",
        "NonInteractiveUserSignInLogs": "non_interactive",
        "ServicePrincipalSignInLogs": "service_principal",
        "ManagedIdentitySignInLogs": "managed_identity",
        "ADFSSignInLogs": "adfs",
        "MicrosoftServicePrincipalSignInLogs": "service_principal",
    }
    records = []
    for category in categories:
        record = interactive(category)
        record["category"] = category
        records.append(record)
    write_raw(tmp_path, records)
    rows = build_rows(tmp_path, "signin_logs", HOUR)
    assert {r["id"]: r["signin_type"] for r in rows} == categories
