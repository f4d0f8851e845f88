"""Build the normalized tables of one event-time hour from the raw lake.

For each table: the raw files of that hour for the table's categories (and no other hour: the cost
is what the hour holds) are exposed to DuckDB as the relation `raw_hour`; the table's SELECT
(`normalize/sql/<table>.sql`) runs over it; the rows, ordered by `(event_time, record_id)`, are
written to `lake/tables/<table>/date=YYYY-MM-DD/hour=HH/part.parquet`, atomically replacing any
previous build of that hour. Building an hour twice gives the same rows in the same order.

An hour that yields no rows for a table has no table-hour file: a previous file is removed (an
hour whose raw records were all removed must not keep stale rows). The catalog's views still
answer on such hours thanks to the zero-row schema seed of each table area; `table_schema` gives
the columns for it.

No data value is ever interpolated into SQL: file lists and time bounds are passed through DuckDB's
relational API, and the SQL files are code.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from azlogs_pipeline.lake.parquet import replace_partition_file
from azlogs_pipeline.lake.paths import (
    hour_start,
    raw_categories,
    raw_hour_files,
    table_hour_file,
)
from azlogs_pipeline.lake.raw_schema import RAW_RECORDS_SCHEMA
from azlogs_pipeline.lake.storage import LakePath, configure_duckdb
from azlogs_pipeline.normalize.tables import TABLES, TableSpec, macros_sql, table_spec

RAW_RELATION = "raw_hour"
ORDER_COLUMNS = ("event_time", "record_id")
SCHEMA_VERSION = "1"


@dataclass(frozen=True, slots=True)
class HourResult:
    """What building one table-hour did."""

    table: str
    hour: datetime
    rows: int
    files: int
    """Raw Parquet files read."""
    records_in: int
    """Raw records of the table's categories in the hour (duplicates included)."""
    records_per_category: dict[str, int] = field(default_factory=dict)
    rows_per_category: dict[str, int] = field(default_factory=dict)
    path: LakePath | None = None
    """The table-hour file, None when the hour has no rows (and no file)."""
    bytes_written: int = 0


def build_hour(
    data_dir: Path, hour: datetime, tables: Sequence[str] | None = None
) -> dict[str, HourResult]:
    """Rebuild the given tables (default: all) for the UTC hour containing `hour`."""
    specs = [table_spec(name) for name in tables] if tables is not None else list(TABLES)
    start = hour_start(hour)
    present = raw_categories(Path(data_dir))
    results: dict[str, HourResult] = {}
    with connect() as con:
        for spec in specs:
            results[spec.name] = _build_table(con, Path(data_dir), spec, start, present)
    return results


def table_schema(table: str) -> pa.Schema:
    """The Arrow schema of a table's rows (its SQL run over zero raw records)."""
    spec = table_spec(table)
    with connect() as con:
        _register_raw(con, [], None)
        return _run(con, spec).schema.with_metadata(_metadata(spec))


def connect(timezone: str = "UTC") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection ready for the table queries (with their shared macros).

    ``timezone`` is the session zone; results must not depend on it (the tests check with
    another one)."""
    con = duckdb.connect(":memory:")
    threads = os.cpu_count() or 1
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = $zone", {"zone": timezone})
    con.execute("SET enable_progress_bar = false")
    con.execute(macros_sql())
    configure_duckdb(con)
    return con


def _build_table(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    spec: TableSpec,
    start: datetime,
    present: Sequence[str],
) -> HourResult:
    files: list[LakePath] = []
    for category in present:
        if spec.matches(category):
            files.extend(raw_hour_files(data_dir, category, start))
    _register_raw(con, files, start)
    records_per_category = _counts(con, f"SELECT category, count(*) FROM {RAW_RELATION} GROUP BY 1")
    table = _run(con, spec).replace_schema_metadata(_metadata(spec))
    short_columns = [n for n in table.column_names if n != "raw"]
    path, size = replace_partition_file(
        table,
        table_hour_file(data_dir, spec.name, start),
        dictionary_columns=short_columns,
        statistics_columns=short_columns,
    )
    rows_per_category: dict[str, int] = {}
    if table.num_rows:
        grouped = table.group_by("category").aggregate([("category", "count")])
        rows_per_category = dict(
            sorted(
                zip(
                    grouped["category"].to_pylist(),
                    grouped["category_count"].to_pylist(),
                    strict=True,
                )
            )
        )
    return HourResult(
        table=spec.name,
        hour=start,
        rows=table.num_rows,
        files=len(files),
        records_in=sum(records_per_category.values()),
        records_per_category=records_per_category,
        rows_per_category=rows_per_category,
        path=path,
        bytes_written=size,
    )


def _register_raw(
    con: duckdb.DuckDBPyConnection, files: Sequence[LakePath], start: datetime | None
) -> None:
    """Expose the raw records of `files` within the hour at `start` as the view `raw_hour`."""
    if files:
        relation = con.read_parquet([str(f) for f in files], hive_partitioning=False)
        if start is not None:
            event_time = duckdb.ColumnExpression("event_time")
            relation = relation.filter(
                (event_time >= duckdb.ConstantExpression(start))
                & (event_time < duckdb.ConstantExpression(start + timedelta(hours=1)))
            )
    else:
        relation = con.from_arrow(RAW_RECORDS_SCHEMA.empty_table())
    relation.create_view(RAW_RELATION, replace=True)


def _run(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> pa.Table:
    order = ", ".join(ORDER_COLUMNS)
    query = f"SELECT * FROM (\n{spec.sql()}\n) AS t ORDER BY {order}"
    return query_arrow(con, query, f"normalization SQL of table {spec.name!r}")


def query_arrow(con: duckdb.DuckDBPyConnection, query: str, what: str) -> pa.Table:
    """The rows of `query` as an Arrow table; a DuckDB error becomes one naming `what`."""
    try:
        table: pa.Table = con.sql(query).to_arrow_table()
    except duckdb.Error as exc:
        raise RuntimeError(f"{what} failed: {exc}") from exc
    return table


def _counts(con: duckdb.DuckDBPyConnection, query: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(con.execute(query).fetchall())}


def _metadata(spec: TableSpec) -> dict[str, str]:
    return {"azlogs.table": spec.name, "azlogs.schema_version": SCHEMA_VERSION}
