"""Golden tests of activity_logs.sql over a raw lake built by the drain's writer: level spellings,
resource ids in any casing (parsed into subscription, group, provider, type, name), identity as an
object, a plain string or a JSON-encoded string, properties as a JSON-encoded string, odd IPs,
malformed values (NULL, never an error) and duplicate collapse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from azlogs_pipeline_tests.normalize.expected import COMMON_COLUMNS
from azlogs_pipeline_tests.normalize.raw_fixtures import run_table_sql, utc, write_raw

CONTRACT = [
    "event_time",
    "category",
    "operation_name",
    "result_type",
    "result_signature",
    "level",
    "caller",
    "caller_ip",
    "correlation_id",
    "resource_id",
    "subscription_id",
    "resource_group",
    "resource_provider",
    "resource_type",
    "resource_name",
    "authorization_action",
    "authorization_scope",
    "status_code",
    "properties",
]
UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
OBJECT_ID = "http://schemas.microsoft.com/identity/claims/objectidentifier"


def build(data_dir: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    write_raw(data_dir, records)
    return run_table_sql("activity_logs", data_dir)[1]


def activity(**fields: Any) -> dict[str, Any]:
    return {"time": "2025-03-01T12:10:00Z", "category": "Administrative", **fields}


def test_empty_input_gives_zero_rows_with_contract_columns() -> None:
    names, rows = run_table_sql("activity_logs")
    assert rows == []
    assert set(CONTRACT) | set(COMMON_COLUMNS) <= set(names)
    assert len(names) == len(set(names))


def test_full_administrative_record(tmp_path: Path) -> None:
    record = activity(
        time="2025-03-01T12:10:00.1234567Z",
        resourceId="/SUBSCRIPTIONS/ABCD-EF01/RESOURCEGROUPS/RG-PROD/PROVIDERS/"
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1/EXTENSIONS/EXT1",
        operationName="MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
        resultType="Success",
        resultSignature="Succeeded.Created",
        level="Information",
        callerIpAddress="2001:db8::1",
        correlationId="c1",
        durationMs="14.6",
        location="westeurope",
        RoleLocation="West Europe",
        Stamp="s1",
        identity={
            "authorization": {
                "action": "Microsoft.Compute/virtualMachines/extensions/write",
                "scope": "/subscriptions/abcd-ef01/resourceGroups/rg-prod",
                "evidence": {"role": "Owner", "principalId": "p1", "principalType": "User"},
            },
            "claims": {UPN: "alice@contoso.com", OBJECT_ID: "o1", "appid": "app1"},
        },
        properties={"statusCode": "Created", "eventCategory": "Administrative"},
    )
    [row] = build(tmp_path, [record])
    assert {name: row[name] for name in CONTRACT} == {
        "event_time": utc(2025, 3, 1, 12, 10, 0, 123456),
        "category": "Administrative",
        "operation_name": "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
        "result_type": "Success",
        "result_signature": "Succeeded.Created",
        "level": "Informational",
        "caller": "alice@contoso.com",
        "caller_ip": "2001:db8::1",
        "correlation_id": "c1",
        "resource_id": "/SUBSCRIPTIONS/ABCD-EF01/RESOURCEGROUPS/RG-PROD/PROVIDERS/"
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1/EXTENSIONS/EXT1",
        "subscription_id": "abcd-ef01",
        "resource_group": "RG-PROD",
        "resource_provider": "MICROSOFT.COMPUTE",
        "resource_type": "VIRTUALMACHINES/EXTENSIONS",
        "resource_name": "VM1/EXT1",
        "authorization_action": "Microsoft.Compute/virtualMachines/extensions/write",
        "authorization_scope": "/subscriptions/abcd-ef01/resourceGroups/rg-prod",
        "status_code": "Created",
        "properties": '{"eventCategory":"Administrative","statusCode":"Created"}',
    }
    assert (row["caller_object_id"], row["caller_app_id"]) == ("o1", "app1")
    assert (row["authorization_role"], row["authorization_principal_id"]) == ("Owner", "p1")
    assert (row["duration_ms"], row["event_category"], row["location"]) == (
        15,
        "Administrative",
        "westeurope",
    )
    assert (row["eventhub"], row["partition_id"], row["sequence_number"]) == (
        "insights-logs-test",
        "0",
        0,
    )
    assert row["enqueued_time"] == utc(2025, 3, 1, 12, 5)


@pytest.mark.parametrize(
    ("fields", "level"),
    [
        ({"level": 4}, "Informational"),
        ({"level": "4"}, "Informational"),
        ({"Level": "Informational"}, "Informational"),
        ({"Level": " information "}, "Informational"),
        ({"level": "Warning"}, "Warning"),
        ({"level": 2}, "Error"),
        ({"level": "1"}, "Critical"),
        ({"level": "verbose"}, "Verbose"),
        ({"level": "Unusual"}, "Unusual"),
        ({"level": ""}, None),
        ({}, None),
    ],
)
def test_level_spellings_normalize(tmp_path: Path, fields: dict[str, Any], level: str) -> None:
    [row] = build(tmp_path, [activity(**fields)])
    assert row["level"] == level


@pytest.mark.parametrize(
    ("resource_id", "parts"),
    [
        (
            "/subscriptions/S1/resourceGroups/rg1/providers/Microsoft.Storage/"
            "storageAccounts/acct1/",
            ("s1", "rg1", "Microsoft.Storage", "storageAccounts", "acct1"),
        ),
        (  # an extension resource: the last provider segment names the resource
            "/subscriptions/s1/resourcegroups/RG1/providers/Microsoft.Compute/virtualMachines/"
            "vm1/providers/Microsoft.Insights/diagnosticSettings/ds1",
            ("s1", "RG1", "Microsoft.Insights", "diagnosticSettings", "ds1"),
        ),
        (  # subscription scope
            "/SUBSCRIPTIONS/S1/PROVIDERS/MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/RA1",
            ("s1", None, "MICROSOFT.AUTHORIZATION", "ROLEASSIGNMENTS", "RA1"),
        ),
        ("/subscriptions/s1/resourceGroups/rg1", ("s1", "rg1", None, None, None)),
        ("/tenants/t1/providers/Microsoft.aadiam", (None, None, "Microsoft.aadiam", None, None)),
        ("not a resource id", (None, None, None, None, None)),
    ],
)
def test_resource_id_parts(tmp_path: Path, resource_id: str, parts: tuple[Any, ...]) -> None:
    [row] = build(tmp_path, [activity(resourceId=resource_id)])
    assert (
        row["subscription_id"],
        row["resource_group"],
        row["resource_provider"],
        row["resource_type"],
        row["resource_name"],
    ) == parts


def test_identity_and_properties_shapes_and_malformed_values(tmp_path: Path) -> None:
    records = [
        activity(  # identity as a plain string, properties as a JSON string, odd IP
            time="2025-03-01T12:11:00Z",
            category="Policy",
            identity="someone@contoso.com",
            properties='{"statusCode":"OK","policies":"[{\\"id\\":1}]"}',
            callerIpAddress="&lt;null&gt;",
            durationMs="-1",
        ),
        activity(  # identity as a JSON-encoded string, properties not JSON, bad duration
            time="2025-03-01T12:12:00Z",
            category="Security",
            identity='{"claims":{"appid":"app9"}}',
            properties="not json",
            callerIpAddress="<null>",
            durationMs="fast",
        ),
        activity(  # an explicit caller wins over claims
            time="2025-03-01T12:13:00Z",
            caller="bob@contoso.com",
            identity={"claims": {UPN: "other@contoso.com"}},
            callerIpAddress="10.1.2.XXX",
            properties={},
        ),
    ]
    rows = build(tmp_path, records)
    columns = ["category", "caller", "caller_app_id", "caller_ip", "status_code", "properties"]
    assert [{name: row[name] for name in columns} | {"ms": row["duration_ms"]} for row in rows] == [
        {
            "category": "Policy",
            "caller": "someone@contoso.com",
            "caller_app_id": None,
            "caller_ip": None,
            "status_code": "OK",
            "properties": '{"statusCode":"OK","policies":"[{\\"id\\":1}]"}',
            "ms": -1,
        },
        {
            "category": "Security",
            "caller": "app9",
            "caller_app_id": "app9",
            "caller_ip": None,
            "status_code": None,
            "properties": None,
            "ms": None,
        },
        {
            "category": "Administrative",
            "caller": "bob@contoso.com",
            "caller_app_id": None,
            "caller_ip": "10.1.2.XXX",
            "status_code": None,
            "properties": "{}",
            "ms": None,
        },
    ]


def test_duplicates_collapse_to_one_row_per_record(tmp_path: Path) -> None:
    records = [activity(correlationId="c1"), activity(correlationId="c2")]
    write_raw(tmp_path, records)
    write_raw(tmp_path, records)  # a publishing retry: exact duplicates
    rows = build(tmp_path, [records[0]])
    assert sorted((row["correlation_id"], row["sequence_number"]) for row in rows) == [
        ("c1", 0),
        ("c2", 1),
    ]
    # Same event time: ordered by record_id.
    assert [row["record_id"] for row in rows] == sorted(row["record_id"] for row in rows)
