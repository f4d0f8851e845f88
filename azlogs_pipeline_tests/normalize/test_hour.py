"""build_hour: one event-time hour, atomic replace, idempotent, bounded to the hour it builds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from azlogs_pipeline.lake.builds import raw_hour_inputs
from azlogs_pipeline.lake.paths import raw_hour_dir, table_hour_file
from azlogs_pipeline.normalize import build_hour, table_schema
from azlogs_pipeline.normalize.tables import TABLES, TableSpec, table_for_category, table_spec
from azlogs_pipeline_tests.normalize.expected import COMMON_COLUMNS
from azlogs_pipeline_tests.normalize.raw_fixtures import build_rows, write_raw
from azlogs_pipeline_tests.normalize.test_audit_logs import audit
from azlogs_pipeline_tests.normalize.test_signin_logs import interactive, pascal_sp

MY_TABLES = ("signin_logs", "audit_logs", "provisioning_logs")
HOUR = datetime(2025, 3, 1, 10, tzinfo=UTC)
CONTRACT = {
    "signin_logs": "id signin_type user_id user_principal_name user_display_name user_type app_id "
    "app_display_name resource_display_name service_principal_id service_principal_name "
    "ip_address autonomous_system_number client_app_used user_agent is_interactive error_code "
    "failure_reason additional_details result conditional_access_status "
    "authentication_requirement mfa_methods location_city location_state location_country "
    "latitude longitude device_id device_os device_browser device_is_compliant device_is_managed "
    "device_trust_type risk_level_aggregated risk_level_during_signin risk_state risk_detail "
    "risk_event_types applied_ca_policies token_issuer_type cross_tenant_access_type "
    "home_tenant_id resource_tenant_id duration_ms",
    "audit_logs": "id audit_category activity_display_name operation_type result result_reason "
    "logged_by_service initiated_by_user_id initiated_by_upn initiated_by_ip initiated_by_app_id "
    "initiated_by_app_name target_ids target_names target_upns target_types modified_properties "
    "additional_details",
    "provisioning_logs": "id job_id cycle_id change_id action status error_code error_reason "
    "error_category source_system target_system source_identity_id source_identity_name "
    "target_identity_id target_identity_name service_principal_id service_principal_name "
    "initiated_by steps modified_properties duration_ms",
}


def _mixed_hour(data_dir: Path) -> None:
    records = [interactive(f"s{i}") for i in range(5)] + [pascal_sp(), interactive("s0")]
    records.append(audit())  # another category, another hour (08)
    write_raw(data_dir, records)
    write_raw(data_dir, [interactive("s1"), interactive("s7")], eventhub="second-hub")


@pytest.mark.parametrize("table", MY_TABLES)
def test_schema_has_the_contract_columns(table: str) -> None:
    schema = table_schema(table)
    names = schema.names
    assert set(CONTRACT[table].split()) | set(COMMON_COLUMNS) <= set(names)
    assert schema.metadata[b"azlogs.table"] == table.encode()
    if table == "signin_logs":
        assert str(schema.field("error_code").type) == "int32"
        assert str(schema.field("duration_ms").type) == "int64"
        risk_types = schema.field("risk_event_types").type
        assert pa.types.is_list(risk_types) and pa.types.is_string(risk_types.value_type)
    assert str(schema.field("event_time").type) == "timestamp[us, tz=UTC]"


def test_build_writes_one_file_per_table_hour_with_counts(tmp_path: Path) -> None:
    _mixed_hour(tmp_path)
    results = build_hour(tmp_path, datetime(2025, 3, 1, 10, 30, tzinfo=UTC), list(MY_TABLES))
    signins = results["signin_logs"]
    assert signins.path == table_hour_file(tmp_path, "signin_logs", HOUR)
    assert signins.path is not None and signins.path.name == "part.parquet"
    assert "lake/tables/signin_logs/date=2025-03-01/hour=10" in str(signins.path)
    assert (signins.rows, signins.records_in, signins.files) == (7, 9, 3)
    assert signins.records_per_category == {"ServicePrincipalSignInLogs": 1, "SignInLogs": 8}
    assert signins.rows_per_category == {"ServicePrincipalSignInLogs": 1, "SignInLogs": 6}
    rows = pq.read_table(signins.path).to_pylist()
    # sign-ins sent once keep the raw lake's order (files by name, rows as landed); those sent
    # several times (s0 twice in one file, s1 from two hubs) follow, by event time
    singles = [r for r in rows if r["source_records"] == 1]
    merged = [r for r in rows if r["source_records"] > 1]
    assert rows == singles + merged
    landed = [
        record_id
        for f in raw_hour_inputs(tmp_path, HOUR)
        for record_id in pq.read_table(
            raw_hour_dir(tmp_path, f.category, HOUR) / f.name, columns=["record_id"]
        )["record_id"].to_pylist()
    ]
    single_ids = {r["record_id"] for r in singles}
    assert [r["record_id"] for r in singles] == [i for i in landed if i in single_ids]
    assert sorted(r["id"] for r in merged) == ["s0", "s1"]
    keys = [(r["event_time"], r["record_id"]) for r in merged]
    assert keys == sorted(keys)
    # the audit record is in hour 08: hour 10 has none
    assert (results["audit_logs"].rows, results["audit_logs"].path) == (0, None)
    assert results["provisioning_logs"].records_in == 0


def test_rebuilding_an_hour_is_idempotent(tmp_path: Path) -> None:
    _mixed_hour(tmp_path)
    first = build_hour(tmp_path, HOUR, ["signin_logs"])["signin_logs"]
    assert first.path is not None
    first_table = pq.read_table(first.path)
    first_bytes = first.path.read_bytes()
    second = build_hour(tmp_path, HOUR, ["signin_logs"])["signin_logs"]
    assert second.path == first.path
    assert pq.read_table(second.path).equals(first_table)
    assert second.path.read_bytes() == first_bytes
    others = [p.name for p in first.path.parent.iterdir() if p.name != "part.parquet"]
    assert len(others) == 1 and others[0].startswith("_inputs-"), others  # one manifest


def test_redelivered_and_late_records_collapse_on_rebuild(tmp_path: Path) -> None:
    write_raw(tmp_path, [interactive("s1")])
    assert [r["id"] for r in build_rows(tmp_path, "signin_logs", HOUR)] == ["s1"]
    # a re-drain lands the same record again, and a late record of the same hour arrives
    write_raw(tmp_path, [interactive("s1"), interactive("late")])
    rows = build_rows(tmp_path, "signin_logs", HOUR)
    assert sorted(r["id"] for r in rows) == ["late", "s1"]


def test_other_hours_are_not_read(tmp_path: Path) -> None:
    write_raw(tmp_path, [interactive("s1")])
    write_raw(tmp_path, [interactive("s9", createdDateTime="2025-03-01T11:00:00Z")])
    write_raw(tmp_path, [interactive("s8", createdDateTime="2025-03-01T09:59:59.999Z")])
    for other in (9, 11):
        directory = raw_hour_dir(tmp_path, "SignInLogs", HOUR.replace(hour=other))
        for path in directory.glob("*.parquet"):
            path.write_bytes(b"not parquet: reading this hour would fail")
    result = build_hour(tmp_path, HOUR, ["signin_logs"])["signin_logs"]
    assert (result.rows, result.records_in, result.files) == (1, 1, 1)


def test_missing_raw_hour_is_zero_rows_and_removes_a_stale_file(tmp_path: Path) -> None:
    empty = build_hour(tmp_path, HOUR, list(MY_TABLES))
    assert {name: (r.rows, r.files, r.path) for name, r in empty.items()} == {
        name: (0, 0, None) for name in MY_TABLES
    }
    write_raw(tmp_path, [interactive("s1")])
    built = build_hour(tmp_path, HOUR, ["signin_logs"])["signin_logs"]
    assert built.path is not None and built.path.exists()
    for path in raw_hour_dir(tmp_path, "SignInLogs", HOUR).glob("*.parquet"):
        path.unlink()
    rebuilt = build_hour(tmp_path, HOUR, ["signin_logs"])["signin_logs"]
    assert (rebuilt.rows, rebuilt.path) == (0, None)
    assert not built.path.exists()


def test_table_specs_route_categories() -> None:
    assert [spec.name for spec in TABLES] == [
        "signin_logs",
        "audit_logs",
        "provisioning_logs",
        "risky_users",
        "user_risk_events",
        "risky_service_principals",
        "service_principal_risk_events",
        "activity_logs",
        "graph_activity_logs",
    ]
    route = {
        "SignInLogs": "signin_logs",
        "MicrosoftServicePrincipalSignInLogs": "signin_logs",
        "SomeFutureSignInLogs": "signin_logs",
        "AuditLogs": "audit_logs",
        "ProvisioningLogs": "provisioning_logs",
        "RiskyUsers": "risky_users",
        "UserRiskEvents": "user_risk_events",
        "RiskyServicePrincipals": "risky_service_principals",
        "ServicePrincipalRiskEvents": "service_principal_risk_events",
        "Administrative": "activity_logs",
        "Write": "activity_logs",
        "MicrosoftGraphActivityLogs": "graph_activity_logs",
    }
    assert {c: getattr(table_for_category(c), "name", None) for c in route} == route
    assert table_for_category("NetworkAccessTrafficLogs") is None
    assert table_for_category("_invalid") is None


def test_unknown_table_and_missing_sql_fail_loudly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        build_hour(tmp_path, HOUR, ["nope"])
    with pytest.raises(ValueError, match="unknown table"):
        table_spec("nope")
    with pytest.raises(FileNotFoundError, match=r"no_such_table\.sql"):
        TableSpec("no_such_table", ("X",)).sql()
