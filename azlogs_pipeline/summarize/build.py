"""Build one partition (an hour or a UTC day) of one summary from the normalized tables.

For a summary (see `specs.SUMMARIES`) and a partition window `[window_start, window_end)`:
each table the summary reads is exposed to DuckDB as a view of the same name holding only the
table-hour files of `[window_start - lookback, window_end)` (never the whole lake: the cost is
bounded by the window), or zero rows with the table's columns when there is none; the one-row
views `summary_window` and `detection_thresholds` give the SQL its bounds and thresholds; the
summary's SELECT (`summarize/sql/<name>.sql`) runs over them; its rows, sorted on all columns,
replace `lake/summaries/<name>/date=.../[hour=.../]part.parquet` atomically. A partition with no
rows has no file (an older file is removed). Building a partition again gives the same file.

`build_summaries` builds a range: when its inputs are small enough to load once
(`inputs.RangeInputs`), the SQL runs once for a batch of partitions (a LATERAL query over their
window rows) and the result is split and written per partition, the same files as partition by
partition (the path of larger or blob-lake inputs).

No data value is interpolated into SQL: files, bounds and thresholds go through DuckDB's
relational API and registered Arrow tables.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from azlogs_pipeline.lake.builds import (
    budget_runs,
    partition_lock,
    replace_partition,
    scan_built_hours,
    window_digest,
    window_item,
)
from azlogs_pipeline.lake.parquet import table_writer
from azlogs_pipeline.lake.paths import (
    hour_key,
    hour_start,
    scratch_dir,
    summary_day_file,
    summary_hour_file,
    summary_hour_files,
    table_hour_files,
    table_root,
)
from azlogs_pipeline.lake.sessions import build_session, query_arrow
from azlogs_pipeline.lake.storage import LakePath
from azlogs_pipeline.normalize.hour import table_schema
from azlogs_pipeline.normalize.tables import macros_sql
from azlogs_pipeline.sql_files import read_sql as read_package_sql
from azlogs_pipeline.summarize.inputs import (
    PARTITION_COLUMN,
    RANGE_WINDOWS,
    RangeInputs,
    range_budget,
    register_files,
)
from azlogs_pipeline.summarize.specs import (
    CATALOG_VIEWS,
    DAY_GRAIN,
    SUMMARIES,
    SummarySpec,
    input_tables,
    input_window,
    summary_spec,
)
from azlogs_pipeline.summarize.thresholds import DEFAULT_THRESHOLDS, DetectionThresholds
from azlogs_pipeline.vocabulary import SCHEMA_VERSION

SQL_PACKAGE = "azlogs_pipeline.summarize"
WINDOW_VIEW = "summary_window"
THRESHOLDS_VIEW = "detection_thresholds"
SUMMARIES_AREA = "summaries"
"""The writer-lock area of summary partitions (`lake.builds.partition_lock`)."""
_UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True, slots=True)
class SummaryResult:
    """What building one summary partition did."""

    name: str
    window_start: datetime
    window_end: datetime
    lookback_start: datetime
    rows: int
    files: int
    """Table-hour files read (look-back included)."""
    data: pa.Table
    """The rows written (sorted), for metadata and reports."""
    path: LakePath | None = None
    """The partition's file, None when it has no rows (and no file)."""
    bytes_written: int = 0


def partition_window(spec: SummarySpec, moment: datetime) -> tuple[datetime, datetime]:
    """The UTC hour (hourly summaries) or UTC day (daily ones) that contains `moment`."""
    start = hour_start(moment)
    if spec.grain == DAY_GRAIN:
        start = start.replace(hour=0)
    return start, start + timedelta(hours=spec.window_hours)


def summary_window_digest(data_dir: Path, spec: SummarySpec, partition: str) -> str:
    """The digest of the table hours a summary partition depends on (`specs.input_window`), as
    built now (what its build records; `lake.reconcile.plan_builds` computes the same from the raw inputs)."""
    first, end = input_window(spec, partition)
    items = []
    for table in input_tables(spec):
        for key, digest in scan_built_hours(table_root(data_dir, table), first, end).items():
            items.append(window_item(table, key, digest))
    return window_digest(items)


def partition_key(spec: SummarySpec, window_start: datetime) -> str:
    """`YYYY-MM-DD-HH` (hourly summaries) or `YYYY-MM-DD` (daily ones)."""
    return f"{window_start:%Y-%m-%d}" if spec.grain == DAY_GRAIN else hour_key(window_start)


def summary_file(data_dir: Path, spec: SummarySpec, window_start: datetime) -> LakePath:
    if spec.grain == DAY_GRAIN:
        return summary_day_file(data_dir, spec.name, window_start)
    return summary_hour_file(data_dir, spec.name, window_start)


def build_summary(
    data_dir: Path,
    name: str,
    start: datetime,
    *,
    thresholds: DetectionThresholds = DEFAULT_THRESHOLDS,
    con: duckdb.DuckDBPyConnection | None = None,
    inputs: RangeInputs | None = None,
) -> SummaryResult:
    """Rebuild the partition of summary `name` that contains `start` (idempotent), on `con` (a
    `connect()` connection, reused across partitions by `build_summaries`) or a new one; with
    `inputs` (on `con`), its inputs and digest are those listed for the range."""
    spec = summary_spec(name)
    data_dir = Path(data_dir)
    window_start, window_end = partition_window(spec, start)
    lookback_start = window_start - timedelta(hours=spec.lookback_hours)
    key = partition_key(spec, window_start)
    with partition_lock(data_dir, SUMMARIES_AREA, f"{spec.name}-{key}"):
        # Taken before reading: a table hour rebuilt meanwhile makes this partition differ again.
        digest = (
            inputs.digest(window_start) if inputs else summary_window_digest(data_dir, spec, key)
        )
        with contextlib.ExitStack() as stack:
            if con is None:
                con = stack.enter_context(connect(scratch=scratch_dir(data_dir)))
            if inputs is not None:
                files = inputs.register(lookback_start, window_end)
            else:
                files = _register_inputs(con, data_dir, spec, lookback_start, window_end)
            _register_parameters(con, window_start, window_end, lookback_start, thresholds)
            data = _run(con, spec)

        return _write_partition(
            data_dir, spec, (window_start, window_end, lookback_start), data, files, digest
        )


def _write_partition(
    data_dir: Path,
    spec: SummarySpec,
    bounds: tuple[datetime, datetime, datetime],
    data: pa.Table,
    files: int,
    digest: str,
) -> SummaryResult:
    """Replace the partition (window_start, window_end, lookback_start) with `data`, recording
    the inputs' digest and how many files it read; under the partition's lock."""
    window_start, window_end, lookback_start = bounds
    key = partition_key(spec, window_start)
    target = summary_file(data_dir, spec, window_start)
    manifest = {"summary": spec.name, "partition": key, "table_hours_read": files}
    replaced = replace_partition(data_dir, target, table_writer(data), digest, manifest)
    return SummaryResult(
        name=spec.name,
        window_start=window_start,
        window_end=window_end,
        lookback_start=lookback_start,
        rows=data.num_rows,
        files=files,
        data=data,
        path=replaced.path,
        bytes_written=replaced.size,
    )


def build_summaries(
    data_dir: Path,
    name: str,
    start: datetime,
    end: datetime,
    *,
    thresholds: DetectionThresholds = DEFAULT_THRESHOLDS,
) -> list[SummaryResult]:
    """Rebuild every partition of summary `name` in [start, end) that has data: a table hour of
    its input tables (`specs.input_tables`) in its own window, or a previous build (an hour without data has no summary)."""
    spec = summary_spec(name)
    data_dir = Path(data_dir)
    windows = []
    window_start, window_end = partition_window(spec, start)
    while window_start < end:
        own = any(
            table_hour_files(data_dir, t, window_start, window_end) for t in input_tables(spec)
        )
        if own or summary_file(data_dir, spec, window_start).parent.is_dir():
            windows.append(window_start)
        window_start, window_end = window_end, window_end + (window_end - window_start)
    if not windows:
        return []
    with contextlib.ExitStack() as stack:
        con = stack.enter_context(connect(scratch=scratch_dir(data_dir)))  # ~25 ms: one a range
        inputs = None
        if len(windows) > 1:
            inputs = RangeInputs(
                con,
                data_dir,
                spec,
                windows,
                lambda moment: partition_key(spec, moment),
                (table_schema, summary_schema),
            )
            stack.callback(inputs.close)
            if inputs.loaded:
                return [
                    result
                    for batch in _batches(spec, windows, inputs)
                    for result in _build_batch(data_dir, spec, batch, con, inputs, thresholds)
                ]
        return [
            build_summary(data_dir, name, w, thresholds=thresholds, con=con, inputs=inputs)
            for w in windows
        ]


def _batches(
    spec: SummarySpec, windows: list[datetime], inputs: RangeInputs
) -> Iterator[list[datetime]]:
    """`windows` in runs whose partitions read at most `range_budget()` bytes of files together
    (a ranged query holds every partition's look-back rows at once)."""

    def size(window_start: datetime) -> int:
        start, end = partition_window(spec, window_start)
        return inputs.window_bytes(start - timedelta(hours=spec.lookback_hours), end)

    return budget_runs(windows, size, range_budget())


def _build_batch(
    data_dir: Path,
    spec: SummarySpec,
    batch: list[datetime],
    con: duckdb.DuckDBPyConnection,
    inputs: RangeInputs,
    thresholds: DetectionThresholds,
) -> list[SummaryResult]:
    """Rebuild the partitions `batch` (window starts) with one ranged query: what
    `build_summary` with `inputs` writes for each, partition by partition."""
    windows = [partition_window(spec, w) for w in batch]
    bounds = [(s, e, s - timedelta(hours=spec.lookback_hours)) for s, e in windows]
    keys = [partition_key(spec, s) for s, _ in windows]
    with contextlib.ExitStack() as locks:
        for key in keys:  # in order: two ranged builds never wait on each other's
            locks.enter_context(partition_lock(data_dir, SUMMARIES_AREA, f"{spec.name}-{key}"))
        digests = [inputs.digest(s) for s, _ in windows]
        table, files = inputs.windows_table(bounds)
        con.register(RANGE_WINDOWS, table)
        con.register(THRESHOLDS_VIEW, thresholds.to_arrow())
        query = inputs.ranged_query(read_sql(spec.sql_file))
        rows = query_arrow(con, query, f"summary SQL {spec.sql_file!r} (ranged)")
        con.unregister(RANGE_WINDOWS)
        return [
            _write_partition(
                data_dir, spec, bounds[index], _tagged(part, spec), files[index], digest
            )
            for index, (part, digest) in enumerate(
                zip(_split(rows, len(batch)), digests, strict=True)
            )
        ]


def _split(rows: pa.Table, partitions: int) -> list[pa.Table]:
    """The rows of each partition of a ranged query's result (sorted on `PARTITION_COLUMN`
    first), without that column."""
    counts = [0] * partitions
    for entry in pc.value_counts(rows.column(PARTITION_COLUMN)).to_pylist():
        counts[entry["values"]] = entry["counts"]
    data = rows.drop_columns([PARTITION_COLUMN])
    parts, offset = [], 0
    for count in counts:
        parts.append(data.slice(offset, count).combine_chunks())
        offset += count
    return parts


@cache
def summary_schema(name: str) -> pa.Schema:
    """The Arrow schema of a summary's rows (its SQL run over empty tables)."""
    spec = summary_spec(name)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    with connect() as con:
        for table in spec.tables:
            register_files(con, table, [], table_schema(table))
        for upstream in spec.summaries:
            register_files(con, upstream, [], summary_schema(upstream))
        _register_parameters(con, epoch, epoch + timedelta(hours=1), epoch, DEFAULT_THRESHOLDS)
        return _run(con, spec).schema


def summary_schemas() -> dict[str, pa.Schema]:
    """Summary name -> Arrow schema, for every summary in `SUMMARIES` (catalog views and seeds)."""
    return {spec.name: summary_schema(spec.name) for spec in SUMMARIES}


def catalog_views() -> dict[str, str]:
    """Catalog view name -> its SELECT, for the views over summary views (`CATALOG_VIEWS`)."""
    return {name: read_sql(file_name) for name, file_name in CATALOG_VIEWS.items()}


def connect(timezone: str = "UTC", scratch: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A build session with the table queries' macros and the summaries' own."""
    macros = [macros_sql(), read_sql("_macros.sql") + ";"]
    return build_session(macros, timezone=timezone, scratch=scratch)


def _register_inputs(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    spec: SummarySpec,
    lookback_start: datetime,
    window_end: datetime,
) -> int:
    """The views of the tables and summaries `spec` reads, [lookback_start, window_end) of each;
    the files they hold."""
    files = 0
    for table in spec.tables:
        found = table_hour_files(data_dir, table, lookback_start, window_end)
        register_files(con, table, found, table_schema(table))
        files += len(found)
    for upstream in spec.summaries:
        found = summary_hour_files(data_dir, upstream, lookback_start, window_end)
        register_files(con, upstream, found, summary_schema(upstream))
        files += len(found)
    return files


def _register_parameters(
    con: duckdb.DuckDBPyConnection,
    window_start: datetime,
    window_end: datetime,
    lookback_start: datetime,
    thresholds: DetectionThresholds,
) -> None:
    window = pa.table(
        {
            "window_start": pa.array([window_start], _UTC_TIMESTAMP),
            "window_end": pa.array([window_end], _UTC_TIMESTAMP),
            "lookback_start": pa.array([lookback_start], _UTC_TIMESTAMP),
        }
    )
    con.register(WINDOW_VIEW, window)
    con.register(THRESHOLDS_VIEW, thresholds.to_arrow())


def _run(con: duckdb.DuckDBPyConnection, spec: SummarySpec) -> pa.Table:
    query = f"SELECT * FROM (\n{read_sql(spec.sql_file)}\n) AS t ORDER BY ALL"
    return _tagged(query_arrow(con, query, f"summary SQL {spec.sql_file!r}"), spec)


def _tagged(rows: pa.Table, spec: SummarySpec) -> pa.Table:
    """`rows` with the summary's name and schema version in their schema metadata."""
    return rows.replace_schema_metadata(
        {"azlogs.summary": spec.name, "azlogs.schema_version": SCHEMA_VERSION}
    )


def read_sql(file_name: str) -> str:
    """A summary SQL file (`summarize/sql/<file_name>`)."""
    return read_package_sql(SQL_PACKAGE, file_name)
