"""Schedules and sensors."""

import json
import time
from collections.abc import Sequence
from datetime import datetime

import dagster as dg

from azlogs_pipeline.assets.alerts import alert_deliveries
from azlogs_pipeline.assets.ingest import EVENTHUB_PARTITIONS, raw_events
from azlogs_pipeline.assets.normalize import normalized_tables
from azlogs_pipeline.assets.partitions import HOURLY, PartitionRange, hour_ranges, range_tags
from azlogs_pipeline.assets.reports import security_report
from azlogs_pipeline.assets.summarize import DAILY_SUMMARY_ASSETS, HOURLY_SUMMARY_ASSETS
from azlogs_pipeline.config import Settings
from azlogs_pipeline.ingest.status import list_partitions
from azlogs_pipeline.lake.reconcile import plan_builds
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline.vocabulary import HOUR_KEY_FORMAT, eventhub_partition_key

BUILD_TAG = "azlogs/build"
"""Tag of the runs the lake sensor requests: the next tick looks them up by it."""
RETRY_AFTER_FAILURE_SECONDS = 300
"""A failed build is requested again this long after it ended (the lake still says it differs)."""
_ACTIVE = {
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
}
HOURLY_KEYS = [*normalized_tables.keys, *(key for a in HOURLY_SUMMARY_ASSETS for key in a.keys)]


def partition_bounds() -> tuple[datetime, datetime]:
    """The first and the last hour that exist as hourly partitions now."""
    last = HOURLY.get_last_partition_key()
    end = HOURLY.time_window_for_partition_key(last).start if last else HOURLY.start
    return HOURLY.start, end


def _still_owned(instance: dg.DagsterInstance, tag: str, now: float) -> bool:
    """True while the run requested with `tag` is queued or running, or failed only recently."""
    records = instance.get_run_records(dg.RunsFilter(tags={BUILD_TAG: tag}), limit=1)
    if not records:
        return False  # never launched (or deleted): request again
    record = records[0]
    if record.dagster_run.status in _ACTIVE:
        return True
    failed = record.dagster_run.status == dg.DagsterRunStatus.FAILURE
    return (
        failed
        and record.end_time is not None
        and now - record.end_time < RETRY_AFTER_FAILURE_SECONDS
    )


def _request(keys: Sequence[dg.AssetKey], hours: PartitionRange, tag: str) -> dg.RunRequest:
    return dg.RunRequest(
        asset_selection=list(keys),
        tags={**range_tags(hours), BUILD_TAG: tag, "azlogs/trigger": "lake_hours_sensor"},
    )


@dg.sensor(
    asset_selection=dg.AssetSelection.assets(*HOURLY_KEYS),
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def lake_hours_sensor(
    context: dg.SensorEvaluationContext, azlogs: AzlogsSettings
) -> dg.SensorResult:
    """Request exactly the hours the lake says need building (`lake.reconcile.plan_builds`):
    new, late, replaced or removed raw files, and builds that were killed or failed. Table hours
    are built with their hourly summaries in ranges of up to `MAX_HOURS_PER_RUN`; summary hours
    whose look-back saw a rebuilt table hour follow once those are built. An hour already
    requested is not requested again while its run is queued or running (nor for a while after
    it failed); hours that are no partition yet are reported in the tick's log."""
    state = json.loads(context.cursor) if context.cursor else {}
    seq: int = state.get("seq", 0)
    owned: dict[str, str] = state.get("owned", {})
    plan = plan_builds(azlogs.lake_data_dir(), *partition_bounds())  # the assets' resource
    now = time.time()
    wanted: dict[str, list[str]] = {TABLES_WANT: list(plan.table_hours)}
    for asset in HOURLY_SUMMARY_ASSETS:
        name = asset.key.path[-1]
        wanted[name] = plan.summary_hours([name])
    requests, kept = [], {}
    for what, hours in wanted.items():
        fresh = []
        for hour in hours:
            item = f"{what}/{hour}"
            if item in owned and _still_owned(context.instance, owned[item], now):
                kept[item] = owned[item]
            else:
                fresh.append(hour)
        keys = HOURLY_KEYS if what == TABLES_WANT else [dg.AssetKey(what)]
        for hours_range in hour_ranges(fresh):
            seq += 1
            tag = f"{hours_range.label}#{seq}"
            requests.append(_request(keys, hours_range, tag))
            for hour in fresh:
                if hours_range.first <= _partition_key(hour) <= hours_range.last:
                    kept[f"{what}/{hour}"] = tag
    if plan.out_of_range:
        context.log.warning(
            f"{len(plan.out_of_range)} hours with raw records are no partition yet or are before "
            f"AZLOGS_PARTITION_START ({plan.out_of_range[0]} .. {plan.out_of_range[-1]}): they stay "
            "in the raw lake and are built once their hour exists."
        )
    cursor = json.dumps({"seq": seq, "owned": kept}, sort_keys=True)
    return dg.SensorResult(run_requests=requests, cursor=cursor)


TABLES_WANT = "tables"


def _partition_key(hour: str) -> str:
    return datetime.strptime(hour, HOUR_KEY_FORMAT).strftime(HOURLY.fmt)


def register_eventhub_partitions(instance: dg.DagsterInstance, settings: Settings) -> list[str]:
    """Ask the hubs for their partitions and add any new ones to the dynamic partitions."""
    keys = [eventhub_partition_key(hub, pid) for hub, pid in list_partitions(settings)]
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
def hourly_drain_schedule(
    context: dg.ScheduleEvaluationContext, azlogs: AzlogsSettings
) -> list[dg.RunRequest]:
    """Every hour, one drain run per Event Hub partition (partitions found on the hubs are
    registered first). A partition whose previous drain still runs waits in the queue: the
    `dagster/partition` tag limit in dagster.yaml allows one run per partition key at a time.
    The hours they land records in are then built by `lake_hours_sensor`."""
    settings = azlogs.load()  # the assets' resource; a ConfigError names the setting to fix
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
