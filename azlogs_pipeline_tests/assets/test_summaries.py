"""Summary assets through Dagster: drained sign-ins become tables, then summaries and detections,
with metadata, a reconciliation check, run-config thresholds, lineage and the printed report."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
import pytest

from azlogs_pipeline.assets.ingest import EVENTHUB_PARTITIONS, raw_events
from azlogs_pipeline.assets.normalize import normalized_tables
from azlogs_pipeline.assets.partitions import HOURLY
from azlogs_pipeline.assets.summarize import (
    CHECK_RECONCILES_WITH_SIGNINS,
    SUMMARY_ASSETS_BY_NAME,
    DetectionThresholdsConfig,
)
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline.runner import normalize_hours
from azlogs_pipeline.summarize.report import report_lines
from azlogs_pipeline.summarize.thresholds import DEFAULT_THRESHOLDS, DetectionThresholds
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.sensors import lake_sensor_tick
from azlogs_pipeline_tests.fixtures.settings import local_settings
from azlogs_pipeline_tests.fixtures.stack import LocalStack
from azlogs_pipeline_tests.normalize.test_signin_logs import interactive

HUB = "adlogs"
HOUR = "2026-03-02-10:00"
SPRAY_IP = "203.0.113.66"
SUMMARIES = [SUMMARY_ASSETS_BY_NAME["signin_summary"], SUMMARY_ASSETS_BY_NAME["signin_detections"]]


def spray_bodies() -> list[bytes]:
    """Six users failing with a bad password from one IP within ten minutes, and one success."""
    records: list[dict[str, Any]] = []
    for n in range(6):
        records.append(
            interactive(
                f"spray-{n}",
                createdDateTime=f"2026-03-02T10:{10 + 2 * n:02d}:00Z",
                userId=f"u{n}",
                userPrincipalName=f"user{n}@contoso.com",
                ipAddress=SPRAY_IP,
                status={"errorCode": 50126, "failureReason": "Invalid username or password"},
            )
        )
    records.append(interactive("ok-1", createdDateTime="2026-03-02T10:40:00Z"))
    return [orjson.dumps({"records": [record]}) for record in records]


@pytest.fixture
def drained(
    local_stack: LocalStack,
    tmp_path: Path,
) -> dg.DagsterInstance:
    """The spray published, drained through Dagster into the raw lake under tmp_path."""
    emulator = local_stack(hubs=[HUB], partitions=1)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(EVENTHUB_PARTITIONS.name, [f"{HUB}:0"])
    send_bodies(emulator.connection_string(HUB), spray_bodies())
    assert dg.materialize(
        [raw_events], partition_key=f"{HUB}:0", instance=instance, resources=_resources()
    ).success
    return instance


def _resources() -> dict[str, Any]:
    return {"azlogs": AzlogsSettings()}


def test_sensor_builds_tables_then_summaries_with_metadata(
    drained: dg.DagsterInstance, tmp_path: Path
) -> None:
    request = (lake_sensor_tick(drained).run_requests or [])[0]
    assert request.tags["dagster/asset_partition_range_start"] == HOUR
    assert {dg.AssetKey("signin_summary"), dg.AssetKey("signin_detections")} <= set(
        request.asset_selection or []
    )

    result = dg.materialize(
        [normalized_tables, *SUMMARIES],
        partition_key=HOUR,
        instance=drained,
        resources=_resources(),
    )
    assert result.success
    summary = result.asset_materializations_for_node("signin_summary")[0].metadata
    assert (summary["signins"].value, summary["failures"].value) == (7, 6)
    assert summary["dagster/row_count"].value == 2  # success and failure rows
    assert "Office 365" in str(summary["preview"].value)
    detections = result.asset_materializations_for_node("signin_detections")[0].metadata
    assert detections["detections"].value == 1
    assert detections["detections_password_spray"].value == 1
    assert detections["detections_mfa_fatigue"].value == 0
    assert SPRAY_IP in str(detections["preview"].value)
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks[CHECK_RECONCILES_WITH_SIGNINS].passed

    with connect_read_only(tmp_path) as con:
        rows = con.execute(
            "SELECT detection, entity, distinct_users, len(signin_ids) FROM signin_detections"
        ).fetchall()
        assert rows == [("password_spray", SPRAY_IP, 5, 5)]
        assert con.execute("SELECT sum(attempts) FROM signin_summary").fetchone() == (7,)
        report = "\n".join(report_lines(con))
    assert "password_spray 1" in report and SPRAY_IP in report


def test_thresholds_are_run_config_and_the_runner_builds_summaries(
    drained: dg.DagsterInstance,
    eventhubs_emulator_factory: Any,
    azurite_endpoint: AzuriteEndpoint,
    tmp_path: Path,
) -> None:
    settings = local_settings(eventhubs_emulator_factory(hubs=[HUB]), azurite_endpoint, tmp_path)
    # What `azlogs run` does: the hour (tables, hourly summaries), then the daily summaries of its day.
    run, day = normalize_hours(drained, settings.data_dir, [HOUR])
    assert run.success, run.error
    assert day.success and day.partition_key == HOUR[: len("YYYY-MM-DD")], day.error
    assert set(day.summary_rows) == {"risk_events_daily"} and not day.rows
    assert run.rows["signin_logs"] == 7
    assert run.summary_rows["signin_detections"] == 1 and run.summary_rows["signin_summary"] == 2

    config = {"ops": {"signin_detections": {"config": {"spray_min_users": 7}}}}
    result = dg.materialize(
        [SUMMARY_ASSETS_BY_NAME["signin_detections"]],
        partition_key=HOUR,
        instance=drained,
        resources=_resources(),
        run_config=config,
    )
    assert result.success
    metadata = result.asset_materializations_for_node("signin_detections")[0].metadata
    assert metadata["detections"].value == 0, "6 users do not reach a threshold of 7"


def test_lookback_is_declared_as_a_partition_mapping() -> None:
    detections = SUMMARY_ASSETS_BY_NAME["signin_detections"]
    mapping = detections.get_partition_mapping(dg.AssetKey("signin_logs"))
    upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
        HOURLY.subset_with_partition_keys([HOUR]), HOURLY, HOURLY
    )
    keys = sorted(upstream.partitions_subset.get_partition_keys())
    assert len(keys) == 14 * 24 + 1 and keys[0] == "2026-02-16-10:00" and keys[-1] == HOUR
    summary = SUMMARY_ASSETS_BY_NAME["signin_summary"]
    same_hour = summary.get_partition_mapping(dg.AssetKey("signin_logs"))
    upstream = same_hour.get_upstream_mapped_partitions_result_for_partitions(
        HOURLY.subset_with_partition_keys([HOUR]), HOURLY, HOURLY
    )
    assert list(upstream.partitions_subset.get_partition_keys()) == [HOUR]


def test_the_run_config_mirrors_the_thresholds() -> None:
    assert set(DetectionThresholdsConfig.model_fields) == {
        f.name for f in fields(DetectionThresholds)
    }
    assert DetectionThresholdsConfig().thresholds() == DEFAULT_THRESHOLDS
    changed = DetectionThresholdsConfig(spray_error_codes=[50126], mfa_fatigue_min_denials=12)
    assert changed.thresholds().spray_error_codes == (50126,)
    assert changed.thresholds().mfa_fatigue_min_denials == 12
