"""The normalized tables: one hourly-partitioned multi-asset (subsettable), built by event-time hour."""

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import dagster as dg

from azlogs_pipeline.assets.archive import archive_raw
from azlogs_pipeline.assets.ingest import raw_events
from azlogs_pipeline.assets.partitions import HOURLY, HOURS_PER_RUN
from azlogs_pipeline.lake.paths import hour_key
from azlogs_pipeline.normalize.checks import inspect_table_hours
from azlogs_pipeline.normalize.hour import HourResult
from azlogs_pipeline.normalize.ranges import build_hours
from azlogs_pipeline.normalize.tables import TABLE_NAMES
from azlogs_pipeline.resources import AzlogsSettings

CHECK_KEYS_NOT_NULL = "keys_not_null"
CHECK_RECONCILES = "reconciles_with_raw"
CHECK_SCHEMA = "schema_matches_contract"


def _specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            name,
            group_name="tables",
            kinds={"duckdb", "parquet"},
            deps=[
                dg.AssetDep(raw_events, partition_mapping=dg.AllPartitionMapping()),
                # An archive hour's records are (almost all) of that event-time hour; the few
                # others are in their own hours, which the lake sensor builds.
                dg.AssetDep(archive_raw),
            ],
            description=f"Normalized `{name}` rows, one Parquet file per event-time hour.",
        )
        for name in TABLE_NAMES
    ]


def _checks() -> list[dg.AssetCheckSpec]:
    checks = []
    for name in TABLE_NAMES:
        checks.append(dg.AssetCheckSpec(CHECK_KEYS_NOT_NULL, asset=name))
        checks.append(dg.AssetCheckSpec(CHECK_RECONCILES, asset=name))
        checks.append(dg.AssetCheckSpec(CHECK_SCHEMA, asset=name))
    return checks


def hours_of(window: dg.TimeWindow) -> list[datetime]:
    """The UTC hours of a run's partition window (one hour, or a range of them)."""
    hours, hour = [], window.start
    while hour < window.end:
        hours.append(hour)
        hour += timedelta(hours=1)
    return hours


def combine(results: Sequence[HourResult]) -> HourResult:
    """One table's results over the hours of a run, as one (rows, records and counts summed)."""
    first = results[0]
    rows_per_category: Counter[str] = Counter()
    records_per_category: Counter[str] = Counter()
    for result in results:
        rows_per_category.update(result.rows_per_category)
        records_per_category.update(result.records_per_category)
    return HourResult(
        table=first.table,
        hour=first.hour,
        rows=sum(r.rows for r in results),
        files=sum(r.files for r in results),
        records_in=sum(r.records_in for r in results),
        records_per_category=dict(sorted(records_per_category.items())),
        rows_per_category=dict(sorted(rows_per_category.items())),
        path=next((r.path for r in reversed(results) if r.path), None),
        bytes_written=sum(r.bytes_written for r in results),
    )


def table_metadata(result: HourResult, hours: int = 1) -> dict[str, Any]:
    return {
        "dagster/row_count": result.rows,
        "raw_records": result.records_in,
        "raw_files": result.files,
        "hours_built": hours,
        "rows_per_category": dg.MetadataValue.json(result.rows_per_category),
        "records_per_category": dg.MetadataValue.json(result.records_per_category),
        "bytes_written": result.bytes_written,
        "path": str(result.path) if result.path else "(no rows this hour)",
    }


def table_checks(results: Sequence[HourResult]) -> list[dg.AssetCheckResult]:
    """Keys are present, and in every hour every category with raw records has rows (nothing
    dropped), over the hours of one run."""
    table = results[0].table
    found = inspect_table_hours(results)
    return [
        dg.AssetCheckResult(
            asset_key=table,
            check_name=CHECK_SCHEMA,
            passed=not found.missing_columns,
            metadata={"missing_columns": dg.MetadataValue.json(found.missing_columns)},
        ),
        dg.AssetCheckResult(
            asset_key=table,
            check_name=CHECK_KEYS_NOT_NULL,
            passed=found.null_keys == 0,
            metadata={"null_keys": found.null_keys},
        ),
        dg.AssetCheckResult(
            asset_key=table,
            check_name=CHECK_RECONCILES,
            passed=not found.categories_without_rows and not found.hours_without_rows,
            metadata={
                "categories_without_rows": dg.MetadataValue.json(found.categories_without_rows),
                "hours_without_rows": dg.MetadataValue.json(found.hours_without_rows),
            },
        ),
    ]


@dg.multi_asset(
    specs=_specs(),
    check_specs=_checks(),
    partitions_def=HOURLY,
    can_subset=True,
    pool="lake_writers",
    backfill_policy=HOURS_PER_RUN,
)
def normalized_tables(
    context: dg.AssetExecutionContext, azlogs: AzlogsSettings
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Build the selected tables for each event-time hour of the run (one hour or a range) from
    the raw lake (idempotent)."""
    data_dir = azlogs.lake_data_dir()  # a build needs no Event Hubs settings
    selected = [key.path[-1] for key in context.selected_asset_keys]
    built: dict[str, list[HourResult]] = {name: [] for name in selected}
    for hour in build_hours(data_dir, hours_of(context.partition_time_window), selected):
        for name, result in hour.items():
            built[name].append(result)
    for name, results in built.items():
        metadata = table_metadata(combine(results), len(results))
        metadata["write_spans"] = dg.MetadataValue.json(
            {hour_key(r.hour): list(r.write_span) for r in results if r.rows or r.path}
        )
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)
        yield from table_checks(results)
