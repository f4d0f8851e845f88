"""The lake sensor asks the assets' resource for the data dir, needs nothing but it, and writes
nothing (the catalog is kept by runs, not by a sensor's evaluation)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from azlogs_pipeline.automation import lake_hours_sensor
from azlogs_pipeline.lake.paths import catalog_path
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline_tests.fixtures.settings import only_a_data_dir
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw

HOUR = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)


def test_the_sensor_reads_the_lake_of_its_resource_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, elsewhere = tmp_path / "lake", tmp_path / "elsewhere"
    lake.mkdir()
    elsewhere.mkdir()
    only_a_data_dir(monkeypatch, elsewhere)  # the environment names another, empty data dir
    write_raw(lake, [{"category": "AuditLogs", "time": "2026-11-20T07:30:00Z"}], HOUR)
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(
            instance=instance, resources={"azlogs": AzlogsSettings(data_dir=str(lake))}
        ) as context,
    ):
        result = lake_hours_sensor(context)
    assert isinstance(result, dg.SensorResult)
    [request] = result.run_requests or []
    assert request.tags["dagster/asset_partition_range_start"] == "2026-11-20-07:00"
    assert not catalog_path(lake).exists(), "a sensor's evaluation does not build the catalog"
    assert list(elsewhere.iterdir()) == []
