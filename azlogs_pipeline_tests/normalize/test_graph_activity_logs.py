"""Golden tests of graph_activity_logs.sql over a raw lake built by the drain's writer: both record
shapes (camelCase under `properties`, PascalCase at the top level without `time`), string numbers,
fractional durations, odd IPs, malformed values (NULL, never an error) and duplicate collapse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azlogs_pipeline_tests.normalize.expected import COMMON_COLUMNS
from azlogs_pipeline_tests.normalize.raw_fixtures import run_table_sql, utc, write_raw

COLUMNS = [
    "event_time",
    "request_id",
    "request_method",
    "request_uri",
    "response_status_code",
    "response_size_bytes",
    "duration_ms",
    "app_id",
    "user_id",
    "service_principal_id",
    "ip_address",
    "user_agent",
    "api_version",
    "scopes",
    "correlation_id",
    "tenant_id",
]


def build(data_dir: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    write_raw(data_dir, records)
    return run_table_sql("graph_activity_logs", data_dir)[1]


def test_empty_input_gives_zero_rows_with_contract_columns() -> None:
    names, rows = run_table_sql("graph_activity_logs")
    assert rows == []
    assert set(COLUMNS) | set(COMMON_COLUMNS) <= set(names)
    assert len(names) == len(set(names))


def test_graph_activity_golden(tmp_path: Path) -> None:
    records = [
        {  # diagnostic shape; fractional string duration, numeric status, lower-case method
            "time": "2025-03-01T12:10:00.1234567Z",
            "category": "MicrosoftGraphActivityLogs",
            "tenantId": "t1",
            "correlationId": "c1",
            "resultSignature": "200",
            "durationMs": 999,
            "properties": {
                "requestId": "r1",
                "requestMethod": "get",
                "requestUri": "https://graph.microsoft.com/v1.0/users?$top=5",
                "responseStatusCode": 200,
                "responseSizeBytes": "512",
                "durationMs": "14.2187",
                "appId": "app1",
                "userId": "u1",
                "ipAddress": "2001:db8::1",
                "userAgent": "python-requests/2.32",
                "apiVersion": "v1.0",
                "scopes": "User.Read.All Directory.Read.All",
            },
        },
        {  # PascalCase, no `time` (TimeGenerated), string status, malformed size, CIDR IP
            "Category": "MicrosoftGraphActivityLogs",
            "TenantId": "t1",
            "TimeGenerated": "2025-03-01T12:20:00Z",
            "RequestId": "r2",
            "RequestMethod": "POST",
            "RequestUri": "https://graph.microsoft.com/beta/servicePrincipals",
            "ResponseStatusCode": "403",
            "ResponseSizeBytes": "n/a",
            "DurationMs": "828",
            "ServicePrincipalId": "sp1",
            "AppId": "app2",
            "IPAddress": "127.0.0.0/8",
            "CorrelationId": "c2",
        },
        {  # properties as a JSON string; status only in resultSignature; placeholder IP
            "time": "2025-03-01T12:30:00Z",
            "category": "MicrosoftGraphActivityLogs",
            "resultSignature": "404",
            "callerIpAddress": "&lt;null&gt;",
            "properties": '{"requestMethod":"DELETE","durationMs":"-1","ipAddress":"<null>"}',
        },
    ]
    rows = build(tmp_path, records)
    assert [{name: row[name] for name in COLUMNS} for row in rows] == [
        {
            "event_time": utc(2025, 3, 1, 12, 10, 0, 123456),
            "request_id": "r1",
            "request_method": "GET",
            "request_uri": "https://graph.microsoft.com/v1.0/users?$top=5",
            "response_status_code": 200,
            "response_size_bytes": 512,
            "duration_ms": 14,
            "app_id": "app1",
            "user_id": "u1",
            "service_principal_id": None,
            "ip_address": "2001:db8::1",
            "user_agent": "python-requests/2.32",
            "api_version": "v1.0",
            "scopes": "User.Read.All Directory.Read.All",
            "correlation_id": "c1",
            "tenant_id": "t1",
        },
        {
            "event_time": utc(2025, 3, 1, 12, 20),
            "request_id": "r2",
            "request_method": "POST",
            "request_uri": "https://graph.microsoft.com/beta/servicePrincipals",
            "response_status_code": 403,
            "response_size_bytes": None,
            "duration_ms": 828,
            "app_id": "app2",
            "user_id": None,
            "service_principal_id": "sp1",
            "ip_address": "127.0.0.0/8",
            "user_agent": None,
            "api_version": None,
            "scopes": None,
            "correlation_id": "c2",
            "tenant_id": "t1",
        },
        {
            "event_time": utc(2025, 3, 1, 12, 30),
            "request_id": None,
            "request_method": "DELETE",
            "request_uri": None,
            "response_status_code": 404,
            "response_size_bytes": None,
            "duration_ms": -1,
            "app_id": None,
            "user_id": None,
            "service_principal_id": None,
            "ip_address": None,
            "user_agent": None,
            "api_version": None,
            "scopes": None,
            "correlation_id": None,
            "tenant_id": None,
        },
    ]
    assert [row["event_time_source"] for row in rows] == ["time", "timeGenerated", "time"]
    assert [row["category"] for row in rows] == ["MicrosoftGraphActivityLogs"] * 3


def test_duplicates_collapse_to_one_row_per_record(tmp_path: Path) -> None:
    record = {
        "time": "2025-03-01T12:10:00Z",
        "category": "MicrosoftGraphActivityLogs",
        "properties": {"requestId": "r1"},
    }
    write_raw(tmp_path, [record, record])  # the same record in two events
    rows = build(tmp_path, [record])  # and redelivered
    assert [(row["request_id"], row["sequence_number"]) for row in rows] == [("r1", 0)]
