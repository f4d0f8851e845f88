"""Schedules and sensors."""

from collections.abc import Sequence
from datetime import datetime

import dagster as dg

from azlogs_pipeline.assets.alerts import alert_deliveries
from azlogs_pipeline.assets.archive import archive_raw
from azlogs_pipeline.assets.ingest import (
    EVENTHUB_PARTITIONS,
    HOURS_TOUCHED,
    partition_key,
    raw_events,
)
from azlogs_pipeline.assets.normalize import normalized_tables
from azlogs_pipeline.assets.partitions import HOURLY
from azlogs_pipeline.assets.reports import security_report
from azlogs_pipeline.assets.summarize import DAILY_SUMMARY_ASSETS, HOURLY_SUMMARY_ASSETS
from azlogs_pipeline.config import Settings, load_settings
from azlogs_pipeline.ingest.status import list_partitions

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


def materializations_after(
    instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey], cursor: int, limit: int = 1000
) -> tuple[list[dg.EventLogRecord], int]:
    """Materializations of `keys` stored after `cursor`, oldest first, and the next cursor.

    Storage ids are global to the event log, so one cursor serves several keys. Each key is read
    a page (`limit`) at a time; when a key fills its page, later records of the other keys are
    left for the next tick too, so the cursor never passes a record that was not read.
    """
    fetched: list[dg.EventLogRecord] = []
    horizon: int | None = None
    for key in keys:
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=cursor),
            limit=limit,
            ascending=True,
        ).records
        fetched.extend(page)
        if len(page) >= limit:
            last = page[-1].storage_id
            horizon = last if horizon is None else min(horizon, last)
    kept = sorted(
        (record for record in fetched if horizon is None or record.storage_id <= horizon),
        key=lambda record: record.storage_id,
    )
    return kept, max([cursor, *(record.storage_id for record in kept)])


@dg.sensor(
    asset_selection=dg.AssetSelection.assets(
        *normalized_tables.keys, *(key for asset in HOURLY_SUMMARY_ASSETS for key in asset.keys)
    ),
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def touched_hours_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Rebuild exactly the hours that new drains and archive loads touched (late records
    included): their tables, then their hourly summaries, in one run per hour."""
    cursor = int(context.cursor) if context.cursor else 0
    records, cursor = materializations_after(
        context.instance, [raw_events.key, archive_raw.key], cursor
    )
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


def register_eventhub_partitions(instance: dg.DagsterInstance, settings: Settings) -> list[str]:
    """Ask the hubs for their partitions and add any new ones to the dynamic partitions."""
    keys = [partition_key(hub, pid) for hub, pid in list_partitions(settings)]
    known = set(instance.get_dynamic_partitions(EVENTHUB_PARTITIONS.name or ""))
    new = [key for key in keys if key not in known]
    if new:
        instance.add_dynamic_partitions(EVENTHUB_PARTITIONS.name or "", new)
    return keys


@dg.schedule(
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    target=dg.AssetSelection.assets(raw_events),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def hourly_drain_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """Every hour, one drain run per Event Hub partition (partitions found on the hubs are
    registered first). A partition whose previous drain still runs waits in the queue: the
    `dagster/partition` tag limit in dagster.yaml allows one run per partition key at a time.
    The drains' touched hours are then rebuilt by `touched_hours_sensor`."""
    settings = load_settings()  # a ConfigError names the setting to fix
    try:
        keys = register_eventhub_partitions(context.instance, settings)
    except Exception as error:  # the hubs are unreachable: drain the partitions already known
        keys = list(context.instance.get_dynamic_partitions(EVENTHUB_PARTITIONS.name or ""))
        if not keys:
            raise RuntimeError(
                f"Could not list the Event Hub partitions ({type(error).__name__}) and none are "
                "registered yet. Check AZLOGS_EVENTHUB_* and the network, then wait for the next "
                "tick or run `azlogs run` once."
            ) from None
        context.log.warning(
            f"Could not list the Event Hub partitions ({type(error).__name__}); draining the "
            f"{len(keys)} partitions already registered."
        )
    tick = context.scheduled_execution_time.strftime("%Y-%m-%dT%H:%M")
    return [
        dg.RunRequest(
            run_key=f"{key}@{tick}", partition_key=key, tags={"azlogs/trigger": "schedule"}
        )
        for key in keys
    ]


daily_summaries_sensor = dg.AutomationConditionSensorDefinition(
    "daily_summaries_sensor",
    target=dg.AssetSelection.assets(*DAILY_SUMMARY_ASSETS),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Rebuilds a day's daily summaries (risk_events_daily) after its table hours were "
    "rebuilt (the assets' automation condition says when).",
)


alerts_and_reports_sensor = dg.AutomationConditionSensorDefinition(
    "alerts_and_reports_sensor",
    target=dg.AssetSelection.assets(alert_deliveries, security_report),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Runs a webhook delivery pass (alert_deliveries) after detection hours were "
    "rebuilt, and rewrites a day's security_report after its hours were (the assets' automation "
    "conditions say when).",
)
