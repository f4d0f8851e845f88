"""`raw_events`: one Dagster partition per Event Hub partition, each drained in its own run."""

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

import dagster as dg

from azlogs_pipeline.config import load_partition_start
from azlogs_pipeline.ingest.drain import (
    DrainProgress,
    DrainResult,
    ProgressCallback,
    drain_partition,
)
from azlogs_pipeline.normalize.tables import table_for_category
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline.vocabulary import HOUR_KEY_FORMAT, split_eventhub_partition_key

EVENTHUB_PARTITIONS = dg.DynamicPartitionsDefinition(name="eventhub_partitions")
CHECK_DEAD_LETTERS = "no_dead_letters"
CHECK_RETENTION = "nothing_lost_to_retention"
CHECK_CATEGORIES = "categories_known"
CHECK_PARTITION_START = "no_records_before_partition_start"
CHECK_FUTURE = "no_records_after_the_current_hour"
RECORDS_OUT_OF_RANGE = "records_out_of_range"
"""Metadata key: records landed in hours no hourly partition covers (before
AZLOGS_PARTITION_START or after the current hour); they stay in the raw lake."""
CHECK_CONSUMER_GROUP = "consumer_group_not_shared"
HOURS_TOUCHED = "hours_touched"
PROGRESS_LOGGER = logging.getLogger("azlogs_pipeline.progress")
"""Every progress report of a drain, for a process that shows it live (`azlogs run`'s workers
attach a handler; elsewhere it has none and drops them)."""
RUN_LOG_PROGRESS_SECONDS = 30.0


def drain_progress_reporter(context: dg.AssetExecutionContext) -> ProgressCallback:
    """Progress into the run's log every RUN_LOG_PROGRESS_SECONDS (long drains only), and every
    report to PROGRESS_LOGGER."""
    logged_at = time.monotonic()

    def report(progress: DrainProgress) -> None:
        nonlocal logged_at
        PROGRESS_LOGGER.debug(progress.line(), extra={"drain_progress": progress})
        if time.monotonic() - logged_at >= RUN_LOG_PROGRESS_SECONDS:
            logged_at = time.monotonic()
            context.log.info(f"{context.partition_key}: {progress.line()}")

    return report


def dead_letters_check(dead_letters: int) -> dg.AssetCheckResult:
    """The `no_dead_letters` warning: events kept in lake/deadletter instead of landing."""
    return dg.AssetCheckResult(
        check_name=CHECK_DEAD_LETTERS,
        passed=dead_letters == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"dead_letters": dead_letters},
    )


class Landing(Protocol):
    """What every writer of the raw lake reports (a drain, an archive load)."""

    records: int
    dead_letters: int
    repaired: int
    invalid_category: int
    bytes_written: int
    hours_touched: set[str]
    records_per_category: dict[str, int]
    records_per_hour: dict[str, int]


def landing_checks(result: Landing) -> list[dg.AssetCheckResult]:
    """The checks of every raw-lake writer: dead letters, and what landed outside the partitions
    or in no table (`landed_records_checks`)."""
    return [
        dead_letters_check(result.dead_letters),
        *landed_records_checks(
            result.hours_touched, result.records_per_category, result.records_per_hour
        ),
    ]


def landing_result(
    result: Landing, metadata: dict[str, Any], *checks: dg.AssetCheckResult
) -> dg.MaterializeResult:
    """A raw-lake writer's materialization: its metadata, `landing_checks`, then its own checks."""
    return dg.MaterializeResult(metadata=metadata, check_results=[*landing_checks(result), *checks])


def retention_check(result: DrainResult) -> dg.AssetCheckResult:
    """The `nothing_lost_to_retention` error: events expired before they were drained."""
    return dg.AssetCheckResult(
        check_name=CHECK_RETENTION,
        passed=result.lost_to_retention == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"lost_to_retention": result.lost_to_retention},
    )


def consumer_group_check(result: DrainResult) -> dg.AssetCheckResult:
    """The `consumer_group_not_shared` error: another product's consumer holds the partition."""
    return dg.AssetCheckResult(
        check_name=CHECK_CONSUMER_GROUP,
        passed=not result.held_by_foreign,
        severity=dg.AssetCheckSeverity.ERROR,
        description=result.held_by if result.held_by_foreign else None,
        metadata={"held_by": result.held_by or ""},
    )


def landing_metadata(result: Landing) -> dict[str, Any]:
    """The numbers every raw-lake writer reports (the UI plots them over time), and the hours
    the normalization sensor reads."""
    return {
        "records": result.records,
        "bytes_written": result.bytes_written,
        "dead_letters": result.dead_letters,
        "repaired": result.repaired,
        "invalid_category": result.invalid_category,
        "records_per_category": dg.MetadataValue.json(
            dict(sorted(result.records_per_category.items()))
        ),
        HOURS_TOUCHED: dg.MetadataValue.json(sorted(result.hours_touched)),
        "dagster/row_count": result.records,
    }


def drain_metadata(result: DrainResult) -> dict[str, Any]:
    """`landing_metadata` and the drain's own: its events, sequence numbers, lag and speed."""
    metadata: dict[str, Any] = {
        "status": result.status,
        "events": result.events,
        "bytes": result.body_bytes,
        **landing_metadata(result),
        "first_sequence_number": result.first_sequence_number,
        "last_sequence_number": result.last_sequence_number,
        "lag_after": result.lag_after,
        "lost_to_retention": result.lost_to_retention,
        "held_by": result.held_by,
        RECORDS_OUT_OF_RANGE: records_out_of_range(result.records_per_hour),
        "duration_seconds": round(result.duration_seconds, 3),
        "records_per_second": round(result.records_per_second, 1),
    }
    return {k: v for k, v in metadata.items() if v is not None}


LANDED_RECORDS_CHECKS = {
    CHECK_PARTITION_START: "Warns when records landed in hours before AZLOGS_PARTITION_START: "
    "they stay in the raw lake but no table hour covers them.",
    CHECK_FUTURE: "Warns when records landed in hours after the current one (times less than a "
    "day after their enqueued time; later ones fall back to it): they stay in the raw lake and "
    "their hour is built once it exists.",
    CHECK_CATEGORIES: "Warns when records of categories no table reads landed (they stay "
    "queryable in the raw_records view).",
}
"""The warnings about what landed in the raw lake (`landed_records_checks`), by check name."""


def landing_asset(
    name: str, partitions_def: dg.PartitionsDefinition, own_checks: dict[str, str]
) -> Callable[[Callable[..., dg.MaterializeResult]], dg.AssetsDefinition]:
    """The `@dg.asset` of a raw-lake writer `name`: group ingest, the lake writers' pool, its
    `own_checks` (name: description), then the landed-records warnings every writer has."""
    checks = {**own_checks, **LANDED_RECORDS_CHECKS}
    return dg.asset(
        name=name,
        partitions_def=partitions_def,
        group_name="ingest",
        pool="lake_writers",
        kinds={"azure", "parquet"},
        check_specs=[
            dg.AssetCheckSpec(check, asset=name, description=text) for check, text in checks.items()
        ],
    )


def out_of_range_hours(hours: Iterable[str]) -> tuple[list[str], list[str]]:
    """(hours before the first hourly partition, hours after the current one), sorted."""
    first_hour = load_partition_start().strftime(HOUR_KEY_FORMAT)
    last_hour = datetime.now(UTC).strftime(HOUR_KEY_FORMAT)
    ordered = sorted(hours)
    return [h for h in ordered if h < first_hour], [h for h in ordered if h > last_hour]


def records_out_of_range(records_per_hour: dict[str, int]) -> int:
    """How many records landed in hours that no hourly partition covers (yet)."""
    too_old, too_new = out_of_range_hours(records_per_hour)
    return sum(records_per_hour[hour] for hour in (*too_old, *too_new))


def landed_records_checks(
    hours_touched: set[str],
    records_per_category: dict[str, int],
    records_per_hour: dict[str, int] | None = None,
) -> list[dg.AssetCheckResult]:
    """Results of the `LANDED_RECORDS_CHECKS`: hours before the first hourly partition or after
    the current one, and categories that no normalized table reads."""
    too_old, too_new = out_of_range_hours(hours_touched)
    per_hour = records_per_hour or {}
    unknown = {
        category: count
        for category, count in sorted(records_per_category.items())
        if table_for_category(category) is None
    }
    return [
        dg.AssetCheckResult(
            check_name=CHECK_PARTITION_START,
            passed=not too_old,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"hours_before_partition_start": dg.MetadataValue.json(too_old)},
        ),
        dg.AssetCheckResult(
            check_name=CHECK_FUTURE,
            passed=not too_new,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "hours_after_the_current_hour": dg.MetadataValue.json(too_new),
                "records": sum(per_hour.get(hour, 0) for hour in too_new),
            },
        ),
        dg.AssetCheckResult(
            check_name=CHECK_CATEGORIES,
            passed=not unknown,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"unknown_categories": dg.MetadataValue.json(unknown)},
        ),
    ]


@landing_asset(
    "raw_events",
    EVENTHUB_PARTITIONS,
    {
        CHECK_DEAD_LETTERS: "Warns when a drain dead-lettered events (see lake/deadletter).",
        CHECK_RETENTION: "Fails when events expired in the Event Hub before they were drained.",
        CHECK_CONSUMER_GROUP: "Fails when the partition is held by a consumer outside this "
        "deployment (another product reading the same consumer group): it was not drained.",
    },
)
def raw_events(context: dg.AssetExecutionContext, azlogs: AzlogsSettings) -> dg.MaterializeResult:
    """Drain one Event Hub partition from its blob checkpoint into the raw Parquet lake."""
    eventhub, partition_id = split_eventhub_partition_key(context.partition_key)
    settings = azlogs.load()
    result = drain_partition(
        settings,
        eventhub,
        partition_id,
        drain_progress_reporter(context),
        run_id=context.run.run_id,
    )
    context.log.info(
        f"{context.partition_key}: {result.events} events, {result.records} records, "
        f"{result.dead_letters} dead letters, lag {result.lag_after} ({result.status})"
    )
    return landing_result(
        result, drain_metadata(result), retention_check(result), consumer_group_check(result)
    )
