"""`archive_raw`: one hour of a storage-account archive of diagnostic logs into the raw lake.

Hourly partitions (the tables' `HOURLY`): a UI backfill over a range of hours loads that history.
A partition is the hour of the archive's blob folders (`y=/m=/d=/h=`); its records land in their
own event-time hours, listed in `hours_touched`; `lake_hours_sensor` builds them.
"""

from typing import Any

import dagster as dg

from azlogs_pipeline.assets.ingest import (
    CHECK_DEAD_LETTERS,
    landing_asset,
    landing_metadata,
    landing_result,
)
from azlogs_pipeline.assets.partitions import HOURLY
from azlogs_pipeline.config import load_archive_settings
from azlogs_pipeline.ingest.archive import ArchiveLoadResult, load_archive_hour_from_settings
from azlogs_pipeline.resources import AzlogsSettings

CHECK_BLOBS_READ = "every_blob_read"


def archive_metadata(result: ArchiveLoadResult) -> dict[str, Any]:
    """`landing_metadata` and the archive's own: containers, blobs, lines and bytes read."""
    return {
        "containers": dg.MetadataValue.json(result.containers),
        "blobs": len(result.blobs),
        "lines": result.lines,
        "bytes": result.bytes_read,
        "files": len(result.files),
        **landing_metadata(result),
    }


def blobs_read_check(result: ArchiveLoadResult) -> dg.AssetCheckResult:
    """The `every_blob_read` error: a listed blob or a configured container could not be read."""
    return dg.AssetCheckResult(
        check_name=CHECK_BLOBS_READ,
        passed=not result.unreadable_blobs and not result.missing_containers,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "unreadable_blobs": dg.MetadataValue.json(result.unreadable_blobs),
            "missing_containers": dg.MetadataValue.json(result.missing_containers),
        },
    )


@landing_asset(
    "archive_raw",
    HOURLY,
    {
        CHECK_DEAD_LETTERS: "Warns when archive lines were dead-lettered (see lake/deadletter; "
        "`eventhub` is archive:<container>, `partition_id` the blob, `sequence_number` the line).",
        CHECK_BLOBS_READ: "Fails when a listed blob could not be downloaded (deleted meanwhile, or "
        "a name the service cannot address), or a configured container does not exist.",
    },
)
def archive_raw(context: dg.AssetExecutionContext, azlogs: AzlogsSettings) -> dg.MaterializeResult:
    """Load one hour of the `insights-logs-*` / `insights-activity-logs` archive into the raw lake,
    with the same record ids as the Event Hub drain (a reload replaces its files)."""
    data_dir = azlogs.lake_data_dir()
    hour = context.partition_time_window.start
    result = load_archive_hour_from_settings(load_archive_settings(), data_dir, hour)
    context.log.info(
        f"archive hour {context.partition_key}: {len(result.blobs)} blobs, {result.records} "
        f"records, {result.dead_letters} dead letters, hours touched {sorted(result.hours_touched)}"
    )
    return landing_result(result, archive_metadata(result), blobs_read_check(result))
