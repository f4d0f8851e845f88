"""Schedules and sensors."""

from datetime import datetime

import dagster as dg

from azlogs_pipeline.assets.ingest import HOURS_TOUCHED, raw_events
from azlogs_pipeline.assets.normalize import HOURLY, normalized_tables

_HOUR_KEY = "%Y-%m-%d-%H"


def hour_partition_keys(hours: set[str], partitions: dg.HourlyPartitionsDefinition) -> list[str]:
    """Hourly partition keys for `YYYY-MM-DD-HH` hours, oldest first, skipping hours before the
    first partition (those records stay in the raw lake)."""
    start = partitions.start
    keys = []
    for hour in sorted(hours):
        moment = datetime.strptime(hour, _HOUR_KEY).replace(tzinfo=start.tzinfo)
        if moment >= start:
            keys.append(moment.strftime(partitions.fmt))
    return keys


@dg.sensor(
    asset_selection=dg.AssetSelection.assets(*normalized_tables.keys),
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def touched_hours_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Rebuild exactly the hours that new drains touched (late records included)."""
    cursor = int(context.cursor) if context.cursor else 0
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=raw_events.key, after_storage_id=cursor),
        limit=1000,
        ascending=True,
    ).records
    hours: set[str] = set()
    for record in records:
        materialization = record.asset_materialization
        if materialization is not None and HOURS_TOUCHED in materialization.metadata:
            hours.update(materialization.metadata[HOURS_TOUCHED].value)  # type: ignore[arg-type]
        cursor = max(cursor, record.storage_id)
    requests = [
        dg.RunRequest(run_key=f"{key}@{cursor}", partition_key=key)
        for key in hour_partition_keys(hours, HOURLY)
    ]
    return dg.SensorResult(run_requests=requests, cursor=str(cursor))
