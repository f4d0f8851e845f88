"""`raw_events`: one Dagster partition per Event Hub partition, each drained in its own run."""

import logging
import time
from collections.abc import Iterable
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

    dead_letters: int
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


def consumer_group_check(result: DrainResult) -> dg.AssetCheckResult:
    """The `consumer_group_not_shared` error: another product's consumer holds the partition."""
    return dg.AssetCheckResult(
        check_name=CHECK_CONSUMER_GROUP,
        passed=not result.held_by_foreign,
        severity=dg.AssetCheckSeverity.ERROR,
        description=result.held_by if result.held_by_foreign else None,
        metadata={"held_by": result.held_by or ""},
    )


def drain_metadata(result: DrainResult) -> dict[str, Any]:
    """Numbers the UI plots over time, and the hours the normalization sensor reads."""
    metadata: dict[str, Any] = {
        "status": result.status,
        "events": result.events,
        "records": result.records,
        "bytes": result.body_bytes,
        "bytes_written": result.bytes_written,
        "dead_letters": result.dead_letters,
        "repaired": result.repaired,
        "invalid_category": result.invalid_category,
        "records_per_category": dg.MetadataValue.json(
            dict(sorted(result.records_per_category.items()))
        ),
        "first_sequence_number": result.first_sequence_number,
        "last_sequence_number": result.last_sequence_number,
        "lag_after": result.lag_after,
        "lost_to_retention": result.lost_to_retention,
        "held_by": result.held_by,
        HOURS_TOUCHED: dg.MetadataValue.json(sorted(result.hours_touched)),
        RECORDS_OUT_OF_RANGE: records_out_of_range(result.records_per_hour),
        "duration_seconds": round(result.duration_seconds, 3),
        "records_per_second": round(result.records_per_second, 1),
        "dagster/row_count": result.records,
    }
    return {k: v for k, v in metadata.items() if v is not None}


def landed_records_check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    """The warnings about what landed in the raw lake, for any asset that lands records."""
    return [
        dg.AssetCheckSpec(
            CHECK_PARTITION_START,
            asset=asset,
            description="Warns when records landed in hours before AZLOGS_PARTITION_START: they "
            "stay in the raw lake but no table hour covers them.",
        ),
        dg.AssetCheckSpec(
            CHECK_FUTURE,
            asset=asset,
            description="Warns when records landed in hours after the current one (times less "
            "than a day after their enqueued time; later ones fall back to it): they stay in the "
            "raw lake and their hour is built once it exists.",
        ),
        dg.AssetCheckSpec(
            CHECK_CATEGORIES,
            asset=asset,
            description="Warns when records of categories no table reads landed (they stay "
            "queryable in the raw_records view).",
        ),
    ]


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
    """Results of `landed_records_check_specs`: hours before the first hourly partition or after
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


@dg.asset(
    partitions_def=EVENTHUB_PARTITIONS,
    group_name="ingest",
    pool="lake_writers",
    kinds={"azure", "parquet"},
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_DEAD_LETTERS,
            asset="raw_events",
            description="Warns when a drain dead-lettered events (see lake/deadletter).",
        ),
        dg.AssetCheckSpec(
            CHECK_RETENTION,
            asset="raw_events",
            description="Fails when events expired in the Event Hub before they were drained.",
        ),
        dg.AssetCheckSpec(
            CHECK_CONSUMER_GROUP,
            asset="raw_events",
            description="Fails when the partition is held by a consumer outside this deployment "
            "(another product reading the same consumer group): it was not drained.",
        ),
        *landed_records_check_specs("raw_events"),
    ],
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
    return dg.MaterializeResult(
        metadata=drain_metadata(result),
        check_results=[
            *landing_checks(result),
            dg.AssetCheckResult(
                check_name=CHECK_RETENTION,
                passed=result.lost_to_retention == 0,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"lost_to_retention": result.lost_to_retention},
            ),
            consumer_group_check(result),
        ],
    )
