"""Build the normalized tables of one event-time hour from the raw lake.

For each table: the raw files of that hour for the table's categories (and no other hour: the cost
is what the hour holds) are exposed to DuckDB as the relation `raw_hour`; the table's SELECT
(`normalize/sql/<table>.sql`) runs over it; the rows are streamed to
`lake/tables/<table>/date=YYYY-MM-DD/hour=HH/part.parquet`, atomically replacing any previous build
of that hour. Building an hour twice gives the same rows in the same order (a byte-identical file):
ordered by `(event_time, record_id)`, or for a table that dedupes by the raw `dedupe_key`
(`TableSpec.dedupes_by_key`, signin_logs) in the order its SQL gives, the raw files' order (files
by name, rows as landed) for records without other versions. DuckDB keeps that order, with any
number of threads, because the session preserves insertion order and that part of the plan has no
join (a hash join hands on its rows in the order its threads finish them): which records share a
key is a column of `raw_hour` (`SHARED_KEY`), computed before the table's query. The exception to
byte identity: such a table's hour of `PARALLEL_MIN_RECORDS` or more is written on two threads,
whose row groups are cut by timing (the same rows, the same order, other bytes).

An hour that yields no rows for a table has no table-hour file: a previous file is removed (an
hour whose raw records were all removed must not keep stale rows). The catalog's views still
answer on such hours thanks to the zero-row schema seed of each table area; `table_schema` gives
the columns for it.

No data value is ever interpolated into SQL: file lists and time bounds are passed through DuckDB's
relational API, and the SQL files are code.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from duckdb.func import PythonUDFType

from azlogs_pipeline.config import load_build_memory_mb
from azlogs_pipeline.lake.builds import (
    RawFile,
    partition_lock,
    raw_digest,
    raw_hour_inputs,
    replace_partition,
)
from azlogs_pipeline.lake.paths import (
    hour_key,
    hour_start,
    raw_hour_dir,
    scratch_dir,
    table_hour_file,
)
from azlogs_pipeline.lake.raw_schema import DEDUPE_KEY, RAW_RECORDS_SCHEMA
from azlogs_pipeline.lake.sessions import build_session, query_arrow, relation
from azlogs_pipeline.lake.storage import LakePath
from azlogs_pipeline.normalize.tables import (
    SQL_PACKAGE,
    TABLES,
    TableSpec,
    macros_sql,
    table_spec,
)
from azlogs_pipeline.sql_files import read_sql
from azlogs_pipeline.vocabulary import SCHEMA_VERSION

RAW_RELATION = "raw_hour"
ORDER_COLUMNS = ("event_time", "record_id")
COMPRESSION: Literal["zstd"] = "zstd"
COMPRESSION_LEVEL = 1
"""zstd's fastest level: writing a 200,000-record sign-in hour takes 1.4-1.8 s of CPU instead of
1.7-2.1 s at DuckDB's default (3), for a file 0.6% larger (bench/README.md)."""
ROW_GROUP_ROWS = 10_000
"""Rows per Parquet row group of a table hour: the writer holds one row group per thread in
memory (DuckDB's default of 122,880 rows of sign-ins with their raw JSON is about 1 GB)."""
STREAMING_MIN_MB = 512
"""The budget from which a table that dedupes by key (`TableSpec.dedupes_by_key`) streams its rows
from the raw scan to the Parquet writer: both at work at once need about 150-250 MB (raw row groups
of up to a drain's flush, the writer's row group). Below it the rows are staged in a DuckDB table
first (spilled to scratch when they do not fit), as the sort of the other tables does."""
PARALLEL_MIN_RECORDS = 50_000
"""Records from which a table that dedupes by key is built on more than one thread (1,000,000
sign-ins: 15.1-15.6 s on one thread, 8.9-9.6 s on two, on a quiet machine: bench/README.md). DuckDB's parallel writer cuts
row groups where its threads' batches end, so such an hour's rebuilt file has the same rows in the
same order but may differ in bytes; below it (every hour a range builds too) it is byte-identical."""
STREAMING_MB_PER_THREAD = 512
"""Budget per DuckDB thread of a streamed build (`STREAMING_MIN_MB`): each thread holds a raw row
group and its parsed rows, no hash table or sort over the hour (two threads of a 1,000,000-record
hour peak at about 820 MB of RSS, of a 200,000-record one at 580 MB). The sessions' `MEMORY_MB_PER_THREAD` is for the sorts and windows."""
RANKED_ROW_BYTES = 2048
"""About what one parsed sign-in row takes in DuckDB (1.1-1.8 KB): a streamed build whose ranked
records (the versions of multi-record sign-ins, windowed and sorted) would fill more than a
quarter of the budget runs on one thread (its window and sort spill reliably there)."""
SHARED_KEY = "shared_key"
"""The column of `raw_hour` of a table that dedupes by key: whether another record of the hour has
the record's `dedupe_key` (NULL counted as one key)."""
SHARED_KEY_FUNCTION = "azlogs_shared_key"
STAGED_TABLE = "staged_rows"
WRITTEN_VIEW = "table_rows"
TABLES_AREA = "tables"
"""The writer-lock area of table hours (`lake.builds.partition_lock`)."""


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
    write_span: tuple[float, float] = (0.0, 0.0)
    """When this build held the hour's writer lock (epoch seconds): no other build wrote then."""


def build_hour(
    data_dir: Path, hour: datetime, tables: Sequence[str] | None = None
) -> dict[str, HourResult]:
    """Rebuild the given tables (default: all) for the UTC hour containing `hour`, one query per
    table (`normalize.ranges.build_hours` builds many hours, small ones a range at a time).

    The hour's raw files are listed once (names and sizes) under the hour's writer lock: each
    table reads exactly the listed files of its categories and records them in its manifest
    (`lake.builds`), so a file that lands during the build makes the hour differ from its
    manifest and be built again."""
    data_dir = Path(data_dir)
    specs = [table_spec(name) for name in tables] if tables is not None else list(TABLES)
    start = hour_start(hour)
    lock = partition_lock(data_dir, TABLES_AREA, hour_key(start))
    with connect(scratch=scratch_dir(data_dir)) as con, lock:
        locked = time.time()
        listing = raw_hour_inputs(data_dir, start)
        results = {
            spec.name: build_table_hour(con, data_dir, spec, start, spec.inputs(listing))
            for spec in specs
        }
        span = (locked, time.time())
    return {name: replace(r, write_span=span) for name, r in results.items()}


def build_table_hour(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    spec: TableSpec,
    start: datetime,
    inputs: Sequence[RawFile],
) -> HourResult:
    """One table of the hour at `start` from its listed raw files, on `con` (a `connect()`
    session), under the hour's writer lock. A table with no raw file and no previous build of the
    hour is left alone (nothing to write or remove)."""
    if not inputs and not table_hour_file(data_dir, spec.name, start).parent.is_dir():
        return HourResult(spec.name, start, 0, 0, 0)
    return _build_table(con, data_dir, spec, start, inputs)


def _build_table(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    spec: TableSpec,
    start: datetime,
    inputs: Sequence[RawFile],
) -> HourResult:
    """The table hour built from `inputs` (a query of its own)."""
    files = [raw_hour_dir(data_dir, f.category, start) / f.name for f in inputs]
    ranked = _register_raw(con, files, start, spec)
    records_per_category = _counts(con, f"SELECT category, count(*) FROM {RAW_RELATION} GROUP BY 1")
    rows_per_category: dict[str, int] = {}

    def write(tmp: Path) -> int:
        records = sum(records_per_category.values())
        _write(con, spec, tmp, records, ranked)
        if spec.dedupes_by_key and not _ids_unique(con, tmp):
            ranked_again = _register_raw(con, files, start, spec, use_keys=False)
            _write(con, spec, tmp, records, ranked_again)
        written = con.read_parquet(str(tmp)).aggregate("category, count(*)", "category")
        rows_per_category.update(_counts_of(written.fetchall()))
        return sum(rows_per_category.values())

    return replace_table_hour(
        data_dir, spec, start, inputs, write, records_per_category, rows_per_category
    )


def replace_table_hour(
    data_dir: Path,
    spec: TableSpec,
    start: datetime,
    inputs: Sequence[RawFile],
    write: Callable[[Path], int],
    records_per_category: dict[str, int],
    rows_per_category: dict[str, int],
) -> HourResult:
    """Replace the table hour at `start` with what `write` writes (`lake.builds.replace_partition`:
    file, then the manifest of `inputs`) and say what was done. `rows_per_category` may be filled
    by `write`: it is read after it ran."""
    target = table_hour_file(data_dir, spec.name, start)
    manifest = {
        "table": spec.name,
        "hour": hour_key(start),
        "inputs": sorted(f.entry() for f in inputs),
    }
    replaced = replace_partition(data_dir, target, write, raw_digest(inputs), manifest)
    return HourResult(
        table=spec.name,
        hour=start,
        rows=replaced.rows,
        files=len(inputs),
        records_in=sum(records_per_category.values()),
        records_per_category=records_per_category,
        rows_per_category=rows_per_category,
        path=replaced.path,
        bytes_written=replaced.size,
    )


@cache
def table_schema(table: str) -> pa.Schema:
    """The Arrow schema of a table's rows (its SQL run over zero raw records), computed once per
    process and table: a summary build asks only for the tables it reads."""
    spec = table_spec(table)
    with connect() as con:
        _register_raw(con, [], None, spec)
        return _run(con, spec).schema.with_metadata(_metadata(spec))


def connect(timezone: str = "UTC", scratch: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A build session (`lake.sessions.build_session`) with the table queries' shared macros,
    keeping the order of rows (the order of an unsorted table's file)."""
    con = build_session([macros_sql()], timezone=timezone, scratch=scratch)
    con.execute("SET preserve_insertion_order = true")
    return con


def write_rows(con: duckdb.DuckDBPyConnection, rows: duckdb.DuckDBPyRelation, path: Path) -> None:
    """Write `rows` (a relation of `con`) to the table-hour file `path`: zstd at
    `COMPRESSION_LEVEL`, `ROW_GROUP_ROWS` rows per row group (every table hour, ranged or not,
    is written here, so its bytes do not depend on how it was built)."""
    rows.create_view(WRITTEN_VIEW, replace=True)
    try:
        con.execute(
            f"COPY (FROM {WRITTEN_VIEW}) TO $path (FORMAT parquet, COMPRESSION {COMPRESSION}, "
            f"COMPRESSION_LEVEL {COMPRESSION_LEVEL}, ROW_GROUP_SIZE {ROW_GROUP_ROWS})",
            {"path": str(path)},
        )
    finally:
        con.execute(f"DROP VIEW IF EXISTS {WRITTEN_VIEW}")


def _write(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, path: Path, records: int, ranked: int
) -> None:
    """The table's rows to `path`. A table that dedupes by key (`ranked` of its `records` are
    versions of multi-record events) is written on one thread (the same bytes every build),
    staged below `STREAMING_MIN_MB`; streamed from `PARALLEL_MIN_RECORDS` records on
    `STREAMING_MB_PER_THREAD`'s threads (the same rows in the same order)."""
    if not spec.dedupes_by_key:
        write_rows(con, _relation(con, spec), path)
        return
    budget = load_build_memory_mb()
    streams = 1
    if records >= PARALLEL_MIN_RECORDS and ranked * RANKED_ROW_BYTES <= budget * 1024 * 1024 // 4:
        streams = max(1, min(os.cpu_count() or 1, budget // STREAMING_MB_PER_THREAD))
    threads = con.execute("SELECT current_setting('threads')").fetchone()
    con.execute("SET threads = $threads", {"threads": streams})
    try:
        if budget < STREAMING_MIN_MB:
            query = f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} AS\n{_query(spec)}"
            relation(con, query, f"normalization SQL of table {spec.name!r}")
            write_rows(con, con.table(STAGED_TABLE), path)
            con.execute(f"DROP TABLE {STAGED_TABLE}")
        else:
            write_rows(con, _relation(con, spec), path)
    finally:
        con.execute("SET threads = $threads", {"threads": threads[0] if threads else 1})


def _ids_unique(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """Whether no two rows of the written table file share an `id`."""
    row = con.read_parquet(str(path)).aggregate("count(id) = count(DISTINCT id)").fetchone()
    return bool(row and row[0])


def _register_raw(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[LakePath],
    start: datetime | None,
    spec: TableSpec,
    use_keys: bool = True,
) -> int:
    """Expose the raw records of `files` within the hour at `start` as the view `raw_hour`.

    Its `dedupe_key` is NULL (unknown) in the rows of raw files written before that column
    existed, and in every row without ``use_keys``. For a table that dedupes by key it has the
    column `SHARED_KEY` too; returns how many records share their key (0 for other tables)."""
    if files:
        relation = con.read_parquet(
            [str(f) for f in files], hive_partitioning=False, union_by_name=True
        )
        if DEDUPE_KEY in relation.columns and not use_keys:
            relation = relation.project(f"* EXCLUDE ({DEDUPE_KEY})")
        if DEDUPE_KEY not in relation.columns:
            relation = relation.project(f"*, NULL::VARCHAR AS {DEDUPE_KEY}")
        if start is not None:
            event_time = duckdb.ColumnExpression("event_time")
            relation = relation.filter(
                (event_time >= duckdb.ConstantExpression(start))
                & (event_time < duckdb.ConstantExpression(start + timedelta(hours=1)))
            )
    else:
        relation = con.from_arrow(RAW_RECORDS_SCHEMA.empty_table())
    relation.create_view(RAW_RELATION, replace=True)
    if not spec.dedupes_by_key:
        return 0
    return _register_shared_keys(con, relation)


def _register_shared_keys(con: duckdb.DuckDBPyConnection, raw: duckdb.DuckDBPyRelation) -> int:
    """Redefine `raw_hour` (the view of `raw`) with its `SHARED_KEY` column: a constant when no
    key or every key is shared, else a lookup of the shared keys (pyarrow's hash set, as a
    function over DuckDB's vectors: a join would not keep the rows' order on two threads).
    Returns how many records share their key."""
    shared = query_arrow(con, read_sql(SQL_PACKAGE, "_shared_keys.sql"), "the shared dedupe keys")
    ranked = int(pc.sum(shared["records"]).as_py() or 0)
    if ranked == 0:
        column = "false"
    elif shared.num_rows == 1 and ranked == _count(con):
        column = "true"
    else:
        lookup = pc.SetLookupOptions(value_set=shared["split_key"].combine_chunks())
        _define_function(
            con,
            SHARED_KEY_FUNCTION,
            lambda keys: pc.is_in(keys, options=lookup),
        )
        column = f"{SHARED_KEY_FUNCTION}(coalesce({DEDUPE_KEY}, ''))"
    raw.project(f"*, {column} AS {SHARED_KEY}").create_view(RAW_RELATION, replace=True)
    return ranked


def _define_function(
    con: duckdb.DuckDBPyConnection, name: str, function: Callable[[pa.Array], pa.Array]
) -> None:
    """(Re)define `name` on `con`: a VARCHAR -> BOOLEAN function over Arrow vectors."""
    with contextlib.suppress(duckdb.InvalidInputException):
        con.remove_function(name)
    con.create_function(
        name,
        function,
        [duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("BOOLEAN"),
        type=PythonUDFType.ARROW,
        side_effects=False,
    )


def _count(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT count(*) FROM {RAW_RELATION}").fetchone()
    return int(row[0]) if row else 0


def _query(spec: TableSpec) -> str:
    if spec.dedupes_by_key:
        return spec.sql()
    order = ", ".join(ORDER_COLUMNS)
    return f"SELECT * FROM (\n{spec.sql()}\n) AS t ORDER BY {order}"


def _run(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> pa.Table:
    return query_arrow(con, _query(spec), f"normalization SQL of table {spec.name!r}")


def _relation(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> duckdb.DuckDBPyRelation:
    return relation(con, _query(spec), f"normalization SQL of table {spec.name!r}")


def _counts(con: duckdb.DuckDBPyConnection, query: str) -> dict[str, int]:
    return _counts_of(con.execute(query).fetchall())


def _counts_of(rows: Sequence[tuple[object, object]]) -> dict[str, int]:
    return {str(k): int(str(v)) for k, v in sorted(rows, key=lambda row: str(row[0]))}


def _metadata(spec: TableSpec) -> dict[str, str]:
    return {"azlogs.table": spec.name, "azlogs.schema_version": SCHEMA_VERSION}
