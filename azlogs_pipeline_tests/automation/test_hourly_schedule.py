"""The hourly schedule: one drain run request per Event Hub partition, partitions found on the hubs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from azlogs_pipeline.assets.ingest import EVENTHUB_PARTITIONS
from azlogs_pipeline.automation import hourly_drain_schedule
from azlogs_pipeline.instance import open_instance
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline_tests.fixtures.stack import LocalStack


def evaluate(instance: dg.DagsterInstance, when: datetime) -> list[dg.RunRequest]:
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"azlogs": AzlogsSettings()}
    ) as context:
        return list(hourly_drain_schedule(context))


def test_each_tick_requests_one_drain_per_event_hub_partition(
    local_stack: LocalStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local_stack(hubs=["signins", "audits"], partitions=3)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    expected = [f"{hub}:{pid}" for hub in ("audits", "signins") for pid in ("0", "1", "2")]

    with open_instance(tmp_path) as instance:
        assert instance.get_dynamic_partitions(EVENTHUB_PARTITIONS.name) == []
        first = evaluate(instance, datetime(2026, 11, 20, 13, tzinfo=UTC))
        assert sorted(r.partition_key for r in first) == expected
        assert sorted(instance.get_dynamic_partitions(EVENTHUB_PARTITIONS.name)) == expected
        second = evaluate(instance, datetime(2026, 11, 20, 14, tzinfo=UTC))

    assert sorted(r.partition_key for r in second) == expected
    run_keys = [r.run_key for r in first + second]
    assert len(set(run_keys)) == len(run_keys) == 12, "every tick drains every partition anew"
    assert all(r.tags["azlogs/trigger"] == "schedule" for r in first)
