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
)
from azlogs_pipeline.ingest.archive import hour_folder
from azlogs_pipeline.lake.paths import catalog_path
from azlogs_pipeline.local.archive import upload_archive, write_blob
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.sensors import lake_sensor_tick, launch, requested_range

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


def test_lake_sensor_builds_the_hours_an_archive_load_landed(
    archive_env: BlobServiceClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZLOGS_DATA_DIR", str(tmp_path))
    upload_archive(archive_env, [audit(n) for n in range(12)])
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_hour(instance, tmp_path).success

    first = lake_sensor_tick(instance)

    assert [requested_range(r) for r in first.run_requests] == [
        ("2025-05-01-09:00", "2025-05-01-10:00")
    ]
    assert launch(first.run_requests[0], instance).success
    idle = lake_sensor_tick(instance, first.cursor)
    assert not idle.run_requests

    # The same archive again rewrites the same files with the same records; only their
    # `ingested_at` differs, and with it now and then a file's size: rebuilt once at most.
    assert materialize_hour(instance, tmp_path).success
    reload = lake_sensor_tick(instance, idle.cursor)
    assert [requested_range(r) for r in reload.run_requests] in (
        [],
        [("2025-05-01-09:00", "2025-05-01-10:00")],
    )
    for request in reload.run_requests:
        assert launch(request, instance).success
    settled = lake_sensor_tick(instance, reload.cursor)
    assert not settled.run_requests, "an unchanged hour is never rebuilt"
