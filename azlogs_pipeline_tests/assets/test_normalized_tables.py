"""Hourly tables through Dagster: the lake sensor asks for exactly the hours whose raw files
changed, late data too, and nothing once they are built."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import orjson

from azlogs_pipeline.assets.ingest import EVENTHUB_PARTITIONS, raw_events
from azlogs_pipeline.assets.normalize import normalized_tables
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.sensors import lake_sensor_tick, launch, requested_range
from azlogs_pipeline_tests.fixtures.stack import LocalStack

HUB = "adlogs"


def audit(n: int, when: str) -> bytes:
    record = {
        "category": "AuditLogs",
        "time": "2026-11-20T12:00:00Z",
        "properties": {"id": f"a-{n}", "activityDateTime": when, "activityDisplayName": "Add user"},
    }
    return orjson.dumps({"records": [record]})


def evaluate(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    return lake_sensor_tick(instance, cursor)


def test_lake_sensor_builds_changed_hours_and_late_records_arrive(
    local_stack: LocalStack,
    tmp_path: Path,
) -> None:
    emulator = local_stack(hubs=[HUB], partitions=1)
    conn = emulator.connection_string(HUB)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(EVENTHUB_PARTITIONS.name, [f"{HUB}:0"])
    resources = {"azlogs": AzlogsSettings()}

    def drain() -> None:
        assert dg.materialize(
            [raw_events], partition_key=f"{HUB}:0", instance=instance, resources=resources
        ).success

    def build(hour: str) -> None:
        result = dg.materialize(
            [normalized_tables], partition_key=hour, instance=instance, resources=resources
        )
        assert result.success
        failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
        assert not failed, [(c.asset_key, c.check_name, c.metadata) for c in failed]

    send_bodies(conn, [audit(1, "2026-11-20T07:10:00Z"), audit(2, "2026-11-20T07:20:00Z")])
    drain()
    first = evaluate(instance, None)
    assert [requested_range(r) for r in first.run_requests] == [
        ("2026-11-20-07:00", "2026-11-20-07:00")
    ]
    assert evaluate(instance, first.cursor).run_requests, "not launched: requested again"
    assert launch(first.run_requests[0], instance).success
    assert evaluate(instance, first.cursor).run_requests == [], "built: nothing to do"

    late = [audit(3, "2026-11-20T07:59:00Z"), audit(4, "2026-11-20T09:00:00Z")]
    send_bodies(conn, late)
    drain()
    second = evaluate(instance, first.cursor)
    assert [requested_range(r) for r in second.run_requests] == [
        ("2026-11-20-07:00", "2026-11-20-09:00")  # one run for both hours
    ]
    assert launch(second.run_requests[0], instance).success
    assert evaluate(instance, second.cursor).run_requests == []
    build("2026-11-20-07:00")  # rebuilding an hour changes nothing

    with connect_read_only(tmp_path) as con:
        rows = con.execute(
            "SELECT id FROM audit_logs WHERE event_time < TIMESTAMPTZ '2026-11-20 08:00:00+00' "
            "ORDER BY id"
        ).fetchall()
    assert rows == [("a-1",), ("a-2",), ("a-3",)]
