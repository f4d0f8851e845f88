"""`archive_raw` through real Dagster machinery, and the hour sensor reading its materializations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from azure.storage.blob import BlobServiceClient

from azlogs_pipeline.assets.archive import CHECK_BLOBS_READ, archive_raw
from azlogs_pipeline.assets.ingest import (
    CHECK_CATEGORIES,
    CHECK_DEAD_LETTERS,
    CHECK_PARTITION_START,
    HOURS_TOUCHED,
    raw_events,
)
from azlogs_pipeline.automation import materializations_after, touched_hours_sensor
from azlogs_pipeline.ingest.archive import hour_folder
from azlogs_pipeline.lake.paths import catalog_path
from azlogs_pipeline.local.archive import upload_archive, write_blob
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint

HOUR = datetime(2025, 5, 1, 10, tzinfo=UTC)
TENANT = "0d1c2b3a-0000-4000-8000-000000000001"


def audit(n: int) -> dict[str, Any]:
    """An audit record processed in HOUR whose activity happened in the hour before for n < 3."""
    activity = HOUR + timedelta(minutes=5 * n - 15)
    return {
        "time": (HOUR + timedelta(minutes=n)).isoformat(),
        "category": "AuditLogs",
        "tenantId": TENANT,
        "operationName": "Add member to group",
        "properties": {"id": f"audit-{n}", "activityDateTime": activity.isoformat()},
    }


@pytest.fixture
def archive_env(
    azurite_endpoint: AzuriteEndpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BlobServiceClient]:
    """The archive settings a user would export, and a client to fill the archive with."""
    monkeypatch.setenv("AZLOGS_ARCHIVE_CONNECTION_STRING", azurite_endpoint.connection_string)
    service = BlobServiceClient.from_connection_string(azurite_endpoint.connection_string)
    yield service
    service.close()


def materialize_hour(instance: dg.DagsterInstance, data_dir: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [archive_raw], partition_key=HOUR.strftime("%Y-%m-%d-%H:%M"), instance=instance,
        resources={"azlogs": AzlogsSettings(data_dir=str(data_dir))},
    )  # fmt: skip


def test_materialize_archive_raw_reports_metadata_and_checks(
    archive_env: BlobServiceClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploaded = upload_archive(archive_env, [audit(n) for n in range(12)])
    (name,) = [blob for container, blob in uploaded.blobs if container == "insights-logs-auditlogs"]
    existing = (
        archive_env.get_blob_client("insights-logs-auditlogs", name).download_blob().readall()
    )
    write_blob(archive_env, "insights-logs-auditlogs", name, existing + b"{not json\n")
    instance = dg.DagsterInstance.ephemeral()

    result = materialize_hour(instance, tmp_path)

    assert result.success
    (materialization,) = result.asset_materializations_for_node("archive_raw")
    meta = {key: value.value for key, value in materialization.metadata.items()}
    assert meta["blobs"] == 1 and meta["lines"] == 13
    assert meta["records"] == 12 and meta["dead_letters"] == 1
    assert meta["bytes"] == len(existing) + len(b"{not json\n")
    assert meta["records_per_category"] == {"AuditLogs": 12}
    assert meta[HOURS_TOUCHED] == ["2025-05-01-09", "2025-05-01-10"]
    assert "insights-logs-auditlogs" in meta["containers"]  # type: ignore[operator]
    checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
    assert not checks[CHECK_DEAD_LETTERS].passed
    assert checks[CHECK_DEAD_LETTERS].severity == dg.AssetCheckSeverity.WARN
    assert checks[CHECK_BLOBS_READ].passed
    assert checks[CHECK_CATEGORIES].passed and checks[CHECK_PARTITION_START].passed
    assert catalog_path(tmp_path).is_file(), "the catalog shows the raw records"

    monkeypatch.setenv("AZLOGS_ARCHIVE_CONTAINERS", "insights-logs-auditlogs,insights-logs-gone")
    again = materialize_hour(instance, tmp_path)

    (second,) = again.asset_materializations_for_node("archive_raw")
    assert second.metadata["records"].value == 12
    assert second.metadata["containers"].value == ["insights-logs-auditlogs"]
    checks = {check.check_name: check for check in again.get_asset_check_evaluations()}
    assert not checks[CHECK_BLOBS_READ].passed
    assert checks[CHECK_BLOBS_READ].metadata["missing_containers"].value == ["insights-logs-gone"]
    assert hour_folder(HOUR) in name


def test_sensor_rebuilds_hours_touched_by_archive_loads_and_drains(
    archive_env: BlobServiceClient, tmp_path: Path
) -> None:
    upload_archive(archive_env, [audit(n) for n in range(12)])
    instance = dg.DagsterInstance.ephemeral()
    drained = dg.AssetMaterialization(
        raw_events.key, partition="adlogs:0", metadata={HOURS_TOUCHED: ["2025-05-02-00"]}
    )
    instance.report_runless_asset_event(drained)
    assert materialize_hour(instance, tmp_path).success

    first = touched_hours_sensor(dg.build_sensor_context(instance=instance))

    assert isinstance(first, dg.SensorResult)
    requested = sorted(str(request.partition_key) for request in first.run_requests or [])
    assert requested == ["2025-05-01-09:00", "2025-05-01-10:00", "2025-05-02-00:00"]
    idle = touched_hours_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert isinstance(idle, dg.SensorResult) and not idle.run_requests

    assert materialize_hour(instance, tmp_path).success
    reload = touched_hours_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert isinstance(reload, dg.SensorResult)
    assert sorted(str(r.partition_key) for r in reload.run_requests or []) == [
        "2025-05-01-09:00", "2025-05-01-10:00"
    ]  # fmt: skip


def test_cursor_never_passes_an_unread_materialization_of_either_asset() -> None:
    instance = dg.DagsterInstance.ephemeral()
    order = [raw_events.key, archive_raw.key, archive_raw.key, raw_events.key, archive_raw.key]
    for n, key in enumerate(order):
        partition = "adlogs:0" if key == raw_events.key else "2025-05-01-10:00"
        event = dg.AssetMaterialization(key, partition=partition, metadata={"n": n})
        instance.report_runless_asset_event(event)
    keys = [raw_events.key, archive_raw.key]

    seen: list[int] = []
    cursor = 0
    for _ in range(len(order) + 1):
        records, cursor = materializations_after(instance, keys, cursor, limit=1)
        seen.extend(
            int(record.asset_materialization.metadata["n"].value)  # type: ignore[union-attr,arg-type]
            for record in records
        )

    assert seen == list(range(len(order))), "every materialization once, in storage order"
