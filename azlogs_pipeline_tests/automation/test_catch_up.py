"""Catch-up after downtime: six hours of logs wait in the Event Hub while nothing runs.

The first schedule tick after the outage drains every partition once; the drains land records in
all six hours; the lake sensor then requests those hours in one run, and the rebuilt tables hold
every record of every hour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import orjson
import pytest

from azlogs_pipeline.assets.ingest import raw_events
from azlogs_pipeline.automation import hourly_drain_schedule
from azlogs_pipeline.instance import open_instance
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.sensors import lake_sensor_tick, launch, requested_range
from azlogs_pipeline_tests.fixtures.stack import LocalStack

HUB = "adlogs"
OUTAGE_HOURS = [f"2026-11-20-{hour:02d}:00" for hour in range(7, 13)]


def audit(n: int, hour: int) -> bytes:
    when = f"2026-11-20T{hour:02d}:{n % 60:02d}:00Z"
    record = {
        "category": "AuditLogs",
        "time": when,
        "properties": {"id": f"a-{n}", "activityDateTime": when, "activityDisplayName": "Add user"},
    }
    return orjson.dumps({"records": [record]})


def test_a_drain_after_six_hours_of_outage_rebuilds_each_hour_once(
    local_stack: LocalStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = local_stack(hubs=[HUB], partitions=2)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    conn = emulator.connection_string(HUB)
    sent_per_hour = {hour: 0 for hour in range(7, 13)}
    n = 0
    for hour in range(7, 13):  # each partition gets records of every hour of the outage
        for partition_id in ("0", "1"):
            bodies = [audit(n + i, hour) for i in range(hour - 5)]
            n += len(bodies)
            sent_per_hour[hour] += send_bodies(conn, bodies, partition_id=partition_id)
    resources = {"azlogs": AzlogsSettings()}

    with open_instance(tmp_path) as instance:
        with dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2026, 11, 20, 13, tzinfo=UTC),
            resources=resources,
        ) as tick:
            drains = list(hourly_drain_schedule(tick))
        assert sorted(r.partition_key for r in drains) == [f"{HUB}:0", f"{HUB}:1"]
        for request in drains:  # what the daemon launches for the tick
            assert dg.materialize(
                [raw_events],
                partition_key=request.partition_key,
                instance=instance,
                resources=resources,
                tags=request.tags,
            ).success

        builds = lake_sensor_tick(instance)
        ranges = [requested_range(r) for r in builds.run_requests]
        assert ranges == [(OUTAGE_HOURS[0], OUTAGE_HOURS[-1])], "the six hours in one run"
        run = launch(builds.run_requests[0], instance)
        assert run.success

        assert lake_sensor_tick(instance, builds.cursor).run_requests == []

    with connect_read_only(tmp_path) as con:
        rows = dict(
            con.execute(
                "SELECT hour(event_time), count(*) FROM audit_logs GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
    assert rows == sent_per_hour
