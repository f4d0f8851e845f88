"""The normalized tables: one hourly-partitioned multi-asset (subsettable), built by event-time hour."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dagster as dg

from azlogs_pipeline.assets.archive import archive_raw
from azlogs_pipeline.assets.ingest import raw_events
from azlogs_pipeline.assets.partitions import HOURLY
from azlogs_pipeline.lake.catalog import ensure_catalog
from azlogs_pipeline.lake.parquet import open_parquet
from azlogs_pipeline.normalize.contract import missing_columns
from azlogs_pipeline.normalize.hour import HourResult, build_hour
from azlogs_pipeline.normalize.schemas import table_schemas
from azlogs_pipeline.normalize.tables import TABLE_NAMES
from azlogs_pipeline.resources import AzlogsSettings

CHECK_KEYS_NOT_NULL = "keys_not_null"
CHECK_RECONCILES = "reconciles_with_raw"
CHECK_SCHEMA = "schema_matches_contract"
KEY_COLUMNS = ("record_id", "event_time")


def _specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            name,
            group_name="tables",
            kinds={"duckdb", "parquet"},
            deps=[
                dg.AssetDep(raw_events, partition_mapping=dg.AllPartitionMapping()),
                # An archive hour's records are (almost all) of that event-time hour; the few
                # others reach their own hours through the sensor's `hours_touched`.
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


def table_metadata(result: HourResult) -> dict[str, Any]:
    return {
        "dagster/row_count": result.rows,
        "raw_records": result.records_in,
        "raw_files": result.files,
        "rows_per_category": dg.MetadataValue.json(result.rows_per_category),
        "records_per_category": dg.MetadataValue.json(result.records_per_category),
        "bytes_written": result.bytes_written,
        "path": str(result.path) if result.path else "(no rows this hour)",
    }


def _null_keys(result: HourResult) -> int:
    if result.path is None:
        return 0
    keys = open_parquet(result.path).read(columns=list(KEY_COLUMNS))
    return sum(keys.column(name).null_count for name in KEY_COLUMNS)


def table_checks(result: HourResult) -> list[dg.AssetCheckResult]:
    """Keys are present, and every category with raw records has rows (nothing dropped)."""
    missing = sorted(set(result.records_per_category) - set(result.rows_per_category))
    nulls = _null_keys(result)
    columns = (
        open_parquet(result.path).schema_arrow.names
        if result.path
        else table_schemas()[result.table].names
    )
    absent = missing_columns(result.table, columns)
    return [
        dg.AssetCheckResult(
            asset_key=result.table,
            check_name=CHECK_SCHEMA,
            passed=not absent,
            metadata={"missing_columns": dg.MetadataValue.json(absent)},
        ),
        dg.AssetCheckResult(
            asset_key=result.table,
            check_name=CHECK_KEYS_NOT_NULL,
            passed=nulls == 0,
            metadata={"null_keys": nulls},
        ),
        dg.AssetCheckResult(
            asset_key=result.table,
            check_name=CHECK_RECONCILES,
            passed=not missing and (result.rows > 0) == (result.records_in > 0),
            metadata={"categories_without_rows": dg.MetadataValue.json(missing)},
        ),
    ]


@dg.multi_asset(
    specs=_specs(),
    check_specs=_checks(),
    partitions_def=HOURLY,
    can_subset=True,
    pool="lake_writers",
)
def normalized_tables(
    context: dg.AssetExecutionContext, azlogs: AzlogsSettings
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Build the selected tables for one event-time hour from the raw lake (idempotent)."""
    settings = azlogs.load()
    hour: datetime = context.partition_time_window.start
    selected = [key.path[-1] for key in context.selected_asset_keys]
    results = build_hour(settings.data_dir, hour, selected)
    ensure_catalog(settings.data_dir, table_schemas())
    for name, result in results.items():
        yield dg.MaterializeResult(asset_key=name, metadata=table_metadata(result))
        yield from table_checks(result)
