"""Build the normalized tables of many event-time hours: small hours a range at a time, one query
per table.

Planning a table's SQL costs about the same whatever the hour holds (signin_logs about 150 ms on
this project's machine, mostly inlining and optimizing its CTEs), so hours of a few records each,
built one query per table and hour, spend nearly all their time planning (bench/README.md,
"Building many hours"). Here the hours whose raw inputs of a table are small (`range_bytes`)
are built together: the table's raw files of all of them are read once into the session table
`_range_raw` (`sql/_range_raw.sql`: each row with its hour and its position in that hour's raw
order), the table's SQL runs once with one LATERAL subquery per hour in which `raw_hour` is that
hour's own rows (`sql/_range_query.sql`: the same rows its own build reads, so dedupes never
reach another hour), and the rows, in the order the hour's own build writes them, go to one file
per hour through the same `lake.builds.replace_partition`. Files and manifests are byte-identical
to `hour.build_hour`'s (test_ranges.py).

Order: a sorted table's rows by `hour.ORDER_COLUMNS` within each hour; a table that dedupes by key
(`TableSpec.dedupes_by_key`) as its SQL leaves them, which `sql/_range_keyed_order.sql` restates.
A table-hour file holds one row group either way only up to `hour.ROW_GROUP_ROWS` rows.

Built per hour (`hour.build_table_hour`) instead: hours whose inputs are larger, hours with no raw
file left (a previous build to remove), hours with more rows than one row group, and the hours of
a table that dedupes by key whose ids repeat (that build tries again with the keys ignored).

Every hour of a group is locked before its raw files are listed, in time order (two ranged builds
never wait on each other's locks), and stays locked until its last table is written: no two
builds of one hour write at once, as hour by hour.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from azlogs_pipeline.config import load_build_memory_mb
from azlogs_pipeline.lake.builds import (
    RawFile,
    budget_runs,
    partition_lock,
    raw_hour_inputs,
)
from azlogs_pipeline.lake.paths import (
    hour_key,
    hour_start,
    raw_hour_dir,
    scratch_dir,
)
from azlogs_pipeline.lake.raw_schema import DEDUPE_KEY
from azlogs_pipeline.lake.sessions import SqlError
from azlogs_pipeline.normalize.hour import (
    ORDER_COLUMNS,
    ROW_GROUP_ROWS,
    TABLES_AREA,
    HourResult,
    build_table_hour,
    connect,
    replace_table_hour,
    write_rows,
)
from azlogs_pipeline.normalize.tables import SQL_PACKAGE, TABLES, TableSpec, table_spec
from azlogs_pipeline.sql_files import read_sql

LOCKED_HOURS = 24
"""Hours locked (and listed) together: the ranges of one group."""
RANGE_FRACTION = 64
"""A range's raw files take at most 1/64 of `AZLOGS_BUILD_MEMORY_MB` (16 MB of Parquet at the
default): they are loaded whole, with the records' JSON, and the query holds its rows."""
HOUR_SHARE = 8
"""An hour joins a range when its inputs are at most 1/8 of a range's (a busier hour gains
nothing from sharing a plan and streams on its own)."""
HOUR_COLUMN = "_azlogs_hour"
FILES_VIEW = "_range_files"
HOURS_VIEW = "_range_hours"
SCAN_VIEW = "_range_scan"
RAW_TABLE = "_range_raw"
ROWS_TABLE = "_range_rows"
_UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


def range_bytes() -> int:
    """The bytes of raw files one range may load (`RANGE_FRACTION` of the build budget)."""
    return load_build_memory_mb() * 1024 * 1024 // RANGE_FRACTION


def build_hours(
    data_dir: Path, hours: Sequence[datetime], tables: Sequence[str] | None = None
) -> list[dict[str, HourResult]]:
    """Rebuild the given tables (default: all) for each UTC hour (one result per hour, in the
    order given), on one DuckDB connection: the small hours of each group of `LOCKED_HOURS` a
    range at a time (see module), the others hour by hour, as `hour.build_hour` would."""
    data_dir = Path(data_dir)
    specs = [table_spec(name) for name in tables] if tables is not None else list(TABLES)
    starts = [hour_start(hour) for hour in hours]
    built: list[dict[str, HourResult]] = []
    with connect(scratch=scratch_dir(data_dir)) as con:
        for first in range(0, len(starts), LOCKED_HOURS):
            group = starts[first : first + LOCKED_HOURS]
            with contextlib.ExitStack() as locks:
                for start in sorted(set(group)):
                    locks.enter_context(partition_lock(data_dir, TABLES_AREA, hour_key(start)))
                locked = time.time()
                listings = {start: raw_hour_inputs(data_dir, start) for start in group}
                results: dict[datetime, dict[str, HourResult]] = {start: {} for start in group}
                for spec in specs:
                    for start, result in _build_table(con, data_dir, spec, listings).items():
                        results[start][spec.name] = result
                span = (locked, time.time())
            for start in group:
                built.append(
                    {name: replace(r, write_span=span) for name, r in results[start].items()}
                )
    return built


def _build_table(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    spec: TableSpec,
    listings: dict[datetime, list[RawFile]],
) -> dict[datetime, HourResult]:
    """One table of every listed hour: small hours in ranges, the others hour by hour."""
    results: dict[datetime, HourResult] = {}
    small: list[tuple[datetime, list[RawFile]]] = []
    budget = range_bytes()
    for start, listing in listings.items():
        inputs = spec.inputs(listing)
        if inputs and _inputs_bytes((start, inputs)) <= budget // HOUR_SHARE:
            small.append((start, inputs))
        else:
            results[start] = build_table_hour(con, data_dir, spec, start, inputs)
    for batch in budget_runs(small, _inputs_bytes, budget):
        if len(batch) == 1:
            start, inputs = batch[0]
            results[start] = build_table_hour(con, data_dir, spec, start, inputs)
        else:
            results.update(_build_range(con, data_dir, spec, batch))
    return {start: results[start] for start in listings}


def _inputs_bytes(hour: tuple[datetime, list[RawFile]]) -> int:
    return sum(f.size for f in hour[1])


def _build_range(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    spec: TableSpec,
    batch: list[tuple[datetime, list[RawFile]]],
) -> dict[datetime, HourResult]:
    """The hours of `batch` (each with raw files) of one table with one query (see module)."""
    _load_raw(con, data_dir, batch)
    try:
        records = _per_hour(con.table(RAW_TABLE))
        query = _ranged_query(spec)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {ROWS_TABLE} AS\n{query}")
        except duckdb.Error as exc:
            raise SqlError(
                f"normalization SQL of table {spec.name!r} (ranged) failed: {exc}"
            ) from exc
        rows = _per_hour(con.table(ROWS_TABLE))
        repeated = _repeated_ids(con) if spec.dedupes_by_key else set()
        results = {}
        for index, (start, inputs) in enumerate(batch):
            written = rows.get(index, {})
            if index in repeated or sum(written.values()) > ROW_GROUP_ROWS:
                results[start] = build_table_hour(con, data_dir, spec, start, inputs)
                continue
            results[start] = _write_hour(
                con, data_dir, spec, (index, start), inputs, records.get(index, {}), written
            )
        return results
    finally:
        con.execute(f"DROP TABLE IF EXISTS {ROWS_TABLE}")
        con.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        con.execute(f"DROP VIEW IF EXISTS {SCAN_VIEW}")
        for view in (FILES_VIEW, HOURS_VIEW):
            con.unregister(view)


def _load_raw(
    con: duckdb.DuckDBPyConnection, data_dir: Path, batch: list[tuple[datetime, list[RawFile]]]
) -> None:
    """`_range_raw`: the rows of the batch's raw files within their hours (sql/_range_raw.sql)."""
    files: list[str] = []
    file_hours: list[int] = []
    for index, (start, inputs) in enumerate(batch):
        for f in inputs:
            files.append(str(raw_hour_dir(data_dir, f.category, start) / f.name))
            file_hours.append(index)
    starts = [start for start, _ in batch]
    con.register(
        FILES_VIEW,
        pa.table(
            {
                "filename": pa.array(files, pa.string()),
                HOUR_COLUMN: pa.array(file_hours, pa.int64()),
                "_azlogs_file": pa.array(range(len(files)), pa.int64()),
            }
        ),
    )
    con.register(
        HOURS_VIEW,
        pa.table(
            {
                HOUR_COLUMN: pa.array(range(len(batch)), pa.int64()),
                "hour_start": pa.array(starts, _UTC_TIMESTAMP),
                "hour_end": pa.array([s + timedelta(hours=1) for s in starts], _UTC_TIMESTAMP),
            }
        ),
    )
    scan = con.read_parquet(
        files, hive_partitioning=False, union_by_name=True, filename=True, file_row_number=True
    )
    if DEDUPE_KEY not in scan.columns:
        scan = scan.project(f"*, NULL::VARCHAR AS {DEDUPE_KEY}")
    scan.create_view(SCAN_VIEW, replace=True)
    try:
        con.execute(read_sql(SQL_PACKAGE, "_range_raw.sql"))
    except duckdb.Error as exc:
        raise SqlError(f"reading the raw files of {len(batch)} hours failed: {exc}") from exc


def _ranged_query(spec: TableSpec) -> str:
    """The table's SQL for every hour of `_range_hours`, in its per-hour builds' row order."""
    rows = read_sql(SQL_PACKAGE, "_range_query.sql").replace("{table}", spec.sql())
    if spec.dedupes_by_key:
        return read_sql(SQL_PACKAGE, "_range_keyed_order.sql").replace("{rows}", rows)
    order = ", ".join((HOUR_COLUMN, *ORDER_COLUMNS))
    return f"SELECT * FROM (\n{rows}\n) AS q ORDER BY {order}"


def _per_hour(rows: duckdb.DuckDBPyRelation) -> dict[int, dict[str, int]]:
    """Hour index -> category -> rows of `rows`, categories sorted."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    counted = rows.aggregate(f"{HOUR_COLUMN}, category, count(*)", f"{HOUR_COLUMN}, category")
    for index, category, count in sorted(counted.fetchall(), key=lambda r: (r[0], str(r[1]))):
        found[int(index)][str(category)] = int(count)
    return found


def _repeated_ids(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The hours of `_range_rows` in which two rows share an `id`."""
    counted = con.table(ROWS_TABLE).aggregate(
        f"{HOUR_COLUMN}, count(id) <> count(DISTINCT id) AS repeated", HOUR_COLUMN
    )
    return {int(index) for index, repeated in counted.fetchall() if repeated}


def _write_hour(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    spec: TableSpec,
    hour: tuple[int, datetime],
    inputs: list[RawFile],
    records_per_category: dict[str, int],
    rows_per_category: dict[str, int],
) -> HourResult:
    """Replace the table hour (`index` in the range, starting at `start`) with its rows of
    `_range_rows`, as `hour.build_table_hour` would."""
    index, start = hour
    rows = sum(rows_per_category.values())

    def write(tmp: Path) -> int:
        part = con.table(ROWS_TABLE).filter(
            duckdb.ColumnExpression(HOUR_COLUMN) == duckdb.ConstantExpression(index)
        )
        write_rows(con, part.project(duckdb.StarExpression(exclude=[HOUR_COLUMN])), tmp)
        return rows

    return replace_table_hour(
        data_dir, spec, start, inputs, write, records_per_category, rows_per_category
    )
