"""Golden tests of the four risk tables' SQL, run directly over a raw lake built by the drain's
writer: both record shapes (camelCase under `properties`, PascalCase at the top level),
`properties` as a JSON-encoded string, string booleans, time formats, JSON inside strings, odd IPs,
malformed values (NULL, never an error), and duplicate collapse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from azlogs_pipeline_tests.normalize.expected import COMMON_COLUMNS
from azlogs_pipeline_tests.normalize.raw_fixtures import run_table_sql, utc, write_raw

RISK_EVENT_DETAIL = [
    "risk_event_type",
    "risk_level",
    "risk_state",
    "risk_detail",
    "detection_timing_type",
    "activity",
    "source",
    "ip_address",
    "location_country",
    "location_city",
    "request_id",
    "additional_info",
]
"""What a user's and a service principal's risk event both say about the detection."""
CONTRACT = {
    "risky_users": [
        "user_id",
        "event_time",
        "user_principal_name",
        "user_display_name",
        "risk_level",
        "risk_state",
        "risk_detail",
        "is_deleted",
        "is_processing",
        "is_guest",
    ],
    "user_risk_events": [
        "id",
        "event_time",
        "detected_time",
        "last_updated_time",
        "user_id",
        "user_principal_name",
        *RISK_EVENT_DETAIL,
    ],
    "risky_service_principals": [
        "service_principal_id",
        "event_time",
        "app_id",
        "service_principal_display_name",
        "risk_level",
        "risk_state",
        "risk_detail",
        "is_enabled",
        "is_processing",
    ],
    "service_principal_risk_events": [
        "id",
        "event_time",
        "detected_time",
        "last_updated_time",
        "service_principal_id",
        "app_id",
        "service_principal_display_name",
        *RISK_EVENT_DETAIL,
    ],
}


def build(data_dir: Path, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    write_raw(data_dir, records)
    return run_table_sql(table, data_dir)[1]


def pick(row: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    return {name: row[name] for name in columns}


@pytest.mark.parametrize("table", sorted(CONTRACT))
def test_empty_input_gives_zero_rows_with_contract_columns(table: str) -> None:
    names, rows = run_table_sql(table)
    assert rows == []
    assert set(CONTRACT[table]) | set(COMMON_COLUMNS) <= set(names)
    assert len(names) == len(set(names))


def test_risky_users_golden(tmp_path: Path) -> None:
    records = [
        {  # diagnostic shape; string booleans, 7 fractional digits, a malformed boolean
            "time": "2025-03-01T12:40:00Z",
            "category": "RiskyUsers",
            "tenantId": "t1",
            "correlationId": "c1",
            "operationName": "Risky user",
            "properties": {
                "id": "u1",
                "userPrincipalName": "alice@contoso.com",
                "userDisplayName": "Alice",
                "riskLevel": "high",
                "riskState": "atRisk",
                "riskDetail": "none",
                "riskLastUpdatedDateTime": "2025-03-01T12:01:02.1234567Z",
                "isDeleted": "false",
                "isProcessing": True,
                "isGuest": "maybe",
            },
        },
        {  # Log-Analytics shape: PascalCase, no `time`, US-locale time, "True"
            "Category": "RiskyUsers",
            "TenantId": "t1",
            "Id": "u2",
            "UserPrincipalName": "5f1c2d1e-0000-4000-8000-000000000001",
            "RiskLevel": "low",
            "RiskState": "remediated",
            "RiskLastUpdatedDateTime": "3/1/2025 12:03:04 PM",
            "IsDeleted": "True",
            "IsGuest": False,
        },
        {  # properties as a JSON-encoded string, a time with a -05:00 offset
            "time": "2025-03-01T12:45:00Z",
            "category": "RiskyUsers",
            "properties": '{"id":"u3","riskLevel":"medium",'
            '"riskLastUpdatedDateTime":"2025-03-01T07:30:00-05:00","isGuest":"TRUE"}',
        },
    ]
    rows = build(tmp_path, "risky_users", records)
    columns = [*CONTRACT["risky_users"], "correlation_id", "tenant_id", "category"]
    assert [pick(row, columns) for row in rows] == [
        {
            "user_id": "u1",
            "event_time": utc(2025, 3, 1, 12, 1, 2, 123456),
            "user_principal_name": "alice@contoso.com",
            "user_display_name": "Alice",
            "risk_level": "high",
            "risk_state": "atRisk",
            "risk_detail": "none",
            "is_deleted": False,
            "is_processing": True,
            "is_guest": None,
            "correlation_id": "c1",
            "tenant_id": "t1",
            "category": "RiskyUsers",
        },
        {
            "user_id": "u2",
            "event_time": utc(2025, 3, 1, 12, 3, 4),
            "user_principal_name": "5f1c2d1e-0000-4000-8000-000000000001",
            "user_display_name": None,
            "risk_level": "low",
            "risk_state": "remediated",
            "risk_detail": None,
            "is_deleted": True,
            "is_processing": None,
            "is_guest": False,
            "correlation_id": None,
            "tenant_id": "t1",
            "category": "RiskyUsers",
        },
        {
            "user_id": "u3",
            "event_time": utc(2025, 3, 1, 12, 30),
            "user_principal_name": None,
            "user_display_name": None,
            "risk_level": "medium",
            "risk_state": None,
            "risk_detail": None,
            "is_deleted": None,
            "is_processing": None,
            "is_guest": True,
            "correlation_id": None,
            "tenant_id": None,
            "category": "RiskyUsers",
        },
    ]
    assert [row["risk_last_updated_time"] for row in rows] == [row["event_time"] for row in rows]
    assert rows[0]["operation_name"] == "Risky user"
    assert "raw" not in rows[0], "the raw record stays in the raw lake (raw_of in the catalog)"


def test_duplicates_collapse_to_the_first_landed_copy(tmp_path: Path) -> None:
    record = {
        "time": "2025-03-01T12:40:00Z",
        "category": "RiskyUsers",
        "properties": {"id": "u1", "riskLastUpdatedDateTime": "2025-03-01T12:01:00Z"},
    }
    other = {**record, "properties": {"id": "u2"}}
    write_raw(tmp_path, [record], eventhub="hub-b", partition_id="1")
    write_raw(tmp_path, [record, other], eventhub="hub-a", partition_id="0")
    write_raw(tmp_path, [record], eventhub="hub-a", partition_id="0")  # a redelivery
    rows = run_table_sql("risky_users", tmp_path)[1]
    assert [(row["user_id"], row["eventhub"], row["sequence_number"]) for row in rows] == [
        ("u1", "hub-a", 0),
        ("u2", "hub-a", 1),
    ]
    assert len({row["record_id"] for row in rows}) == 2


def test_user_risk_events_golden(tmp_path: Path) -> None:
    records = [
        {  # diagnostic shape: additionalInfo as JSON in a string, 9 digits, unset sentinel
            "time": "2025-03-01T12:50:00Z",
            "category": "UserRiskEvents",
            "tenantId": "t1",
            "correlationId": "c1",
            "properties": {
                "id": "d1",
                "requestId": "r1",
                "activityDateTime": "2025-03-01T12:01:02Z",
                "detectedDateTime": "2025-03-01T12:02:00.123456789Z",
                "lastUpdatedDateTime": "0001-01-01T00:00:00Z",
                "userId": "u1",
                "userPrincipalName": "alice@contoso.com",
                "riskEventType": "unlikelyTravel",
                "riskLevel": "medium",
                "riskState": "atRisk",
                "riskDetail": "none",
                "detectionTimingType": "offline",
                "activity": "signin",
                "source": "IdentityProtection",
                "ipAddress": "&lt;null&gt;",
                "location": {"city": "Paris", "countryOrRegion": "FR", "state": "IDF"},
                "additionalInfo": '[{"Key":"userAgent","Value":"Mozilla/5.0"}]',
            },
        },
        {  # PascalCase: Location as a JSON string, US times with and without offset,
            # malformed additionalInfo and detection time, a malformed IPv6
            "Category": "UserRiskEvents",
            "Id": "d2",
            "ActivityDateTime": "3/1/2025 12:03:04 PM",
            "DetectedDateTime": "1/9/2025 10:41:00 AM +01:00",
            "LastUpdatedDateTime": "not a time",
            "UserId": "u2",
            "RiskEventType": "passwordSpray",
            "IpAddress": "::2a02:1:2",
            "Location": '{"city":"Oslo","countryOrRegion":"NO"}',
            "AdditionalInfo": "{not json",
            "CorrelationId": "c2",
        },
        {  # older riskType instead of riskEventType, list-valued additionalInfo, a CIDR IP
            "time": "2025-03-01T12:59:59Z",
            "category": "UserRiskEvents",
            "properties": {
                "id": "d3",
                "activityDateTime": "2025-03-01T12:30:00",
                "detectedDateTime": "2025-03-01T12:31:00",
                "riskType": "leakedCredentials",
                "ipAddress": "127.0.0.0/8",
                "additionalInfo": [{"Key": "alertUrl", "Value": None}],
            },
        },
    ]
    rows = build(tmp_path, "user_risk_events", records)
    columns = [*CONTRACT["user_risk_events"], "user_display_name", "correlation_id"]
    assert [pick(row, columns) for row in rows] == [
        {
            "id": "d1",
            "event_time": utc(2025, 3, 1, 12, 1, 2),
            "detected_time": utc(2025, 3, 1, 12, 2, 0, 123456),
            "last_updated_time": None,
            "user_id": "u1",
            "user_principal_name": "alice@contoso.com",
            "risk_event_type": "unlikelyTravel",
            "risk_level": "medium",
            "risk_state": "atRisk",
            "risk_detail": "none",
            "detection_timing_type": "offline",
            "activity": "signin",
            "source": "IdentityProtection",
            "ip_address": None,
            "location_country": "FR",
            "location_city": "Paris",
            "request_id": "r1",
            "additional_info": '[{"Key":"userAgent","Value":"Mozilla/5.0"}]',
            "user_display_name": None,
            "correlation_id": "c1",
        },
        {
            "id": "d2",
            "event_time": utc(2025, 3, 1, 12, 3, 4),
            "detected_time": utc(2025, 1, 9, 9, 41),
            "last_updated_time": None,
            "user_id": "u2",
            "user_principal_name": None,
            "risk_event_type": "passwordSpray",
            "risk_level": None,
            "risk_state": None,
            "risk_detail": None,
            "detection_timing_type": None,
            "activity": None,
            "source": None,
            "ip_address": "::2a02:1:2",
            "location_country": "NO",
            "location_city": "Oslo",
            "request_id": None,
            "additional_info": None,
            "user_display_name": None,
            "correlation_id": "c2",
        },
        {
            "id": "d3",
            "event_time": utc(2025, 3, 1, 12, 30),
            "detected_time": utc(2025, 3, 1, 12, 31),
            "last_updated_time": None,
            "user_id": None,
            "user_principal_name": None,
            "risk_event_type": "leakedCredentials",
            "risk_level": None,
            "risk_state": None,
            "risk_detail": None,
            "detection_timing_type": None,
            "activity": None,
            "source": None,
            "ip_address": "127.0.0.0/8",
            "location_country": None,
            "location_city": None,
            "request_id": None,
            "additional_info": '[{"Key":"alertUrl","Value":null}]',
            "user_display_name": None,
            "correlation_id": None,
        },
    ]
    assert rows[0]["location_state"] == "IDF"


def test_risky_service_principals_golden(tmp_path: Path) -> None:
    records = [
        {
            "time": "2025-03-01T12:40:00Z",
            "category": "RiskyServicePrincipals",
            "tenantId": "t1",
            "correlationId": "c1",
            "properties": {
                "id": "sp1",
                "appId": "app1",
                "displayName": "Build agent",
                "servicePrincipalType": "Application",
                "riskLevel": "high",
                "riskState": "atRisk",
                "riskDetail": "none",
                "riskLastUpdatedDateTime": "2025-03-01T12:10:00.12Z",
                "isEnabled": "true",
                "isProcessing": "0",
            },
        },
        {  # PascalCase, no time at all: event time falls back to the enqueued time
            "Category": "RiskyServicePrincipals",
            "Id": "00000000-0000-0000-0000-000000000000",
            "AppId": "app2",
            "DisplayName": "Legacy app",
            "RiskLevel": "none",
            "RiskState": "dismissed",
            "IsEnabled": "yes please",
            "AccountEnabled": "False",
        },
    ]
    rows = build(tmp_path, "risky_service_principals", records)
    columns = [
        *CONTRACT["risky_service_principals"],
        "service_principal_type",
        "account_enabled",
        "event_time_source",
        "correlation_id",
    ]
    assert [pick(row, columns) for row in rows] == [
        {
            "service_principal_id": "00000000-0000-0000-0000-000000000000",
            "event_time": utc(2025, 3, 1, 12, 5),
            "app_id": "app2",
            "service_principal_display_name": "Legacy app",
            "risk_level": "none",
            "risk_state": "dismissed",
            "risk_detail": None,
            "is_enabled": None,
            "is_processing": None,
            "service_principal_type": None,
            "account_enabled": False,
            "event_time_source": "enqueued_time",
            "correlation_id": None,
        },
        {
            "service_principal_id": "sp1",
            "event_time": utc(2025, 3, 1, 12, 10, 0, 120000),
            "app_id": "app1",
            "service_principal_display_name": "Build agent",
            "risk_level": "high",
            "risk_state": "atRisk",
            "risk_detail": "none",
            "is_enabled": True,
            "is_processing": False,
            "service_principal_type": "Application",
            "account_enabled": None,
            "event_time_source": "properties.riskLastUpdatedDateTime",
            "correlation_id": "c1",
        },
    ]


def test_service_principal_risk_events_golden(tmp_path: Path) -> None:
    records = [
        {
            "time": "2025-03-01T12:50:00Z",
            "category": "ServicePrincipalRiskEvents",
            "tenantId": "t1",
            "correlationId": "c1",
            "properties": {
                "id": "d1",
                "requestId": "r1",
                "activityDateTime": "2025-03-01T12:20:00Z",
                "detectedDateTime": "2025-03-01T12:21:00+00:00",
                "lastUpdatedDateTime": "2025-03-01T12:22:00Z",
                "servicePrincipalId": "sp1",
                "appId": "app1",
                "servicePrincipalDisplayName": "Build agent",
                "riskEventType": "investigationsThreatIntelligence",
                "riskLevel": "high",
                "riskState": "atRisk",
                "riskDetail": "none",
                "detectionTimingType": "offline",
                "activity": "servicePrincipal",
                "source": "IdentityProtection",
                "ipAddress": "20.1.2.XXX",
                "location": {"city": "Dublin", "countryOrRegion": "IE"},
                "keyIds": ["k1", "k2"],
                "additionalInfo": '[{"Key":"riskReasons","Value":"[\\"x\\"]"}]',
            },
        },
        {  # properties as a JSON-encoded string; an empty IP
            "time": "2025-03-01T12:55:00Z",
            "category": "ServicePrincipalRiskEvents",
            "properties": '{"id":"d2","activityDateTime":"2025-03-01T12:25:00Z",'
            '"servicePrincipalId":"sp2","ipAddress":""}',
        },
    ]
    rows = build(tmp_path, "service_principal_risk_events", records)
    columns = [*CONTRACT["service_principal_risk_events"], "key_ids", "correlation_id"]
    assert [pick(row, columns) for row in rows] == [
        {
            "id": "d1",
            "event_time": utc(2025, 3, 1, 12, 20),
            "detected_time": utc(2025, 3, 1, 12, 21),
            "last_updated_time": utc(2025, 3, 1, 12, 22),
            "service_principal_id": "sp1",
            "app_id": "app1",
            "service_principal_display_name": "Build agent",
            "risk_event_type": "investigationsThreatIntelligence",
            "risk_level": "high",
            "risk_state": "atRisk",
            "risk_detail": "none",
            "detection_timing_type": "offline",
            "activity": "servicePrincipal",
            "source": "IdentityProtection",
            "ip_address": "20.1.2.XXX",
            "location_country": "IE",
            "location_city": "Dublin",
            "request_id": "r1",
            "additional_info": '[{"Key":"riskReasons","Value":"[\\"x\\"]"}]',
            "key_ids": '["k1","k2"]',
            "correlation_id": "c1",
        },
        {
            "id": "d2",
            "event_time": utc(2025, 3, 1, 12, 25),
            "detected_time": None,
            "last_updated_time": None,
            "service_principal_id": "sp2",
            "app_id": None,
            "service_principal_display_name": None,
            "risk_event_type": None,
            "risk_level": None,
            "risk_state": None,
            "risk_detail": None,
            "detection_timing_type": None,
            "activity": None,
            "source": None,
            "ip_address": None,
            "location_country": None,
            "location_city": None,
            "request_id": None,
            "additional_info": None,
            "key_ids": None,
            "correlation_id": None,
        },
    ]
