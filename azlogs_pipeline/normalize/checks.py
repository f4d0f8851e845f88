"""What the tables' checks look at, read back from the files a build wrote: the contract's
columns, keys present, and every raw category of an hour turned into rows (nothing dropped)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from azlogs_pipeline.lake.parquet import open_parquet
from azlogs_pipeline.lake.paths import hour_key
from azlogs_pipeline.normalize.contract import missing_columns
from azlogs_pipeline.normalize.hour import HourResult, table_schema

KEY_COLUMNS = ("record_id", "event_time")


@dataclass(frozen=True)
class TableFindings:
    """What the checks of one table over the hours of one run found (empty when all is well)."""

    missing_columns: list[str]
    null_keys: int
    categories_without_rows: list[str]
    hours_without_rows: list[str]


def inspect_table_hours(results: Sequence[HourResult]) -> TableFindings:
    """Read back the files of one table's hours (`results`, at least one) and check them."""
    table = results[0].table
    absent: set[str] = set()
    nulls = 0
    for result in results:
        if result.path is None:
            absent.update(missing_columns(table, table_schema(table).names))
            continue
        written = open_parquet(result.path)
        absent.update(missing_columns(table, written.schema_arrow.names))
        keys = written.read(columns=[c for c in KEY_COLUMNS if c in written.schema_arrow.names])
        nulls += sum(keys.column(name).null_count for name in keys.column_names)
    missing = {c for r in results for c in set(r.records_per_category) - set(r.rows_per_category)}
    empty = [hour_key(r.hour) for r in results if (r.rows > 0) != (r.records_in > 0)]
    return TableFindings(sorted(absent), nulls, sorted(missing), empty)
