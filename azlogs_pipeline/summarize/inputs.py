"""The input views of a summary partition: its tables' (and upstream summaries') files of
`[lookback_start, window_end)`, read per partition or, for a range of partitions, once.

A partition of a summary with a look-back reads weeks of table hours before its window
(signin_detections 14 days, risky_users_current 90): built one partition at a time, a range of
24 hourly partitions reads each of those files 24 times (about 0.4 s a partition for 300 sparse
hour files on this project's machine, mostly opening files and reading Parquet footers).
`RangeInputs` lists each input's files over the whole range once, records the built table
digests of the same moment, and, when the files are small (`RANGE_LOAD_FRACTION` of the build
memory budget together), loads them once into a table of the build session; a partition's view
is then the rows of its own files (the same rows as reading them; build sessions never promise
row order, the summaries sort their output). Larger inputs are read per partition (streaming
within the memory budget), as without a range.

When every input is loaded (`RangeInputs.loaded`), `summarize/build.py` runs the summary's SQL
once for many partitions (`ranged_query`): each row of the session table `RANGE_WINDOWS` is one
partition (its bounds and, per input, the run of files it reads), and the summary's SELECT runs
for each of them as a LATERAL subquery in which `summary_window` and every input view are that
partition's own (the same rows as its per-partition views: exact look-backs).

Listed once, before anything is read: a table hour rebuilt while the range is built differs from
the digest its partitions record, so the lake plan builds them again (never the other way round).
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from azlogs_pipeline.config import load_build_memory_mb
from azlogs_pipeline.lake.builds import scan_built_hours, window_digest, window_item
from azlogs_pipeline.lake.paths import (
    summary_hour_entries,
    table_hour_entries,
    table_root,
)
from azlogs_pipeline.lake.storage import LakePath
from azlogs_pipeline.sql_files import read_sql
from azlogs_pipeline.summarize.specs import SummarySpec, input_tables, input_window

SQL_PACKAGE = "azlogs_pipeline.summarize"
RANGE_LOAD_FRACTION = 8
"""Inputs of a range are loaded once when their files take at most 1/8 of the memory budget."""
FILE_INDEX = "_azlogs_file_index"
"""The column of a loaded range table naming the file (its index in the range) a row came from."""
RANGE_WINDOWS = "_range_windows"
"""The session table of the partitions one ranged query builds (`RangeInputs.windows_table`)."""
PARTITION_COLUMN = "_azlogs_partition"
"""The column of a ranged query's rows naming their partition (its index in the batch)."""
SchemaOf = Callable[[str], pa.Schema]


def range_budget() -> int:
    """The bytes of input files a range may load, and a ranged query hold, at once: 1/8
    (`RANGE_LOAD_FRACTION`) of `AZLOGS_BUILD_MEMORY_MB`."""
    return load_build_memory_mb() * 1024 * 1024 // RANGE_LOAD_FRACTION


_UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


def register_files(
    con: duckdb.DuckDBPyConnection, view: str, files: Sequence[LakePath], schema: pa.Schema
) -> None:
    """`view` = the rows of `files` (zero rows with `schema`'s columns when there is none)."""
    if files:
        rows = con.read_parquet(
            [str(f) for f in files], hive_partitioning=False, union_by_name=True
        )
    else:
        rows = con.from_arrow(schema.empty_table())
    rows.create_view(view, replace=True)


@dataclass(frozen=True, slots=True)
class _Input:
    view: str
    hours: list[datetime]
    files: list[LakePath]
    schema: pa.Schema
    table: str | None
    """The session table holding the rows of `files` (FILE_INDEX per row), or None: read per
    partition."""
    offsets: list[int]
    """Bytes of `files` before each one (and all of them last): loaded inputs only."""

    def bounds(self, start: datetime, end: datetime) -> tuple[int, int]:
        """The indexes [low, high) of the files of [start, end)."""
        return bisect_left(self.hours, start), bisect_left(self.hours, end)

    def register(self, con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> int:
        low, high = self.bounds(start, end)
        if self.table is None or low == high:
            register_files(con, self.view, self.files[low:high], self.schema)
        else:
            index = duckdb.ColumnExpression(FILE_INDEX)
            rows = con.table(self.table).filter(
                (index >= duckdb.ConstantExpression(low))
                & (index < duckdb.ConstantExpression(high))
            )
            rows.project(duckdb.StarExpression(exclude=[FILE_INDEX])).create_view(
                self.view, replace=True
            )
        return high - low


class RangeInputs:
    """The inputs of the partitions `windows` (window starts, oldest first) of one summary,
    listed (and, when small, loaded) once on `con`; `close()` drops the loaded tables."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        data_dir: Path,
        spec: SummarySpec,
        windows: Sequence[datetime],
        partition_key: Callable[[datetime], str],
        schemas: tuple[SchemaOf, SchemaOf],
    ) -> None:
        self._con, self._spec, self._key = con, spec, partition_key
        first, _ = input_window(spec, partition_key(windows[0]))
        _, end = input_window(spec, partition_key(windows[-1]))
        self._digests = {
            table: scan_built_hours(table_root(data_dir, table), first, end)
            for table in input_tables(spec)
        }
        start = windows[0] - timedelta(hours=spec.lookback_hours)
        stop = windows[-1] + timedelta(hours=spec.window_hours)
        table_schema, summary_schema = schemas
        listed = [
            (name, table_hour_entries(data_dir, name, start, stop), table_schema(name))
            for name in spec.tables
        ] + [
            (name, summary_hour_entries(data_dir, name, start, stop), summary_schema(name))
            for name in spec.summaries
        ]
        budget = range_budget()
        self._inputs = []
        for name, entries, schema in listed:
            files = [path for _, path in entries]
            stats = _local_stats(files)
            table = None
            offsets: list[int] = []
            if stats is not None and sum(st.st_size for st in stats) <= budget:
                local = [path for path in files if isinstance(path, Path)]
                table = _load(con, name, local, stats, schema)
                offsets = [0, *accumulate(st.st_size for st in stats)]
            hours = [h for h, _ in entries]
            self._inputs.append(_Input(name, hours, files, schema, table, offsets))

    @property
    def loaded(self) -> bool:
        """Every input is loaded in the session: the range can run as ranged queries."""
        return all(one.table is not None for one in self._inputs)

    def digest(self, window_start: datetime) -> str:
        """What `build.summary_window_digest` gives for this partition, as listed."""
        first, end = input_window(self._spec, self._key(window_start))
        return window_digest(
            window_item(table, key, digest)
            for table, built in self._digests.items()
            for key, digest in built.items()
            if first <= key < end
        )

    def register(self, start: datetime, end: datetime) -> int:
        """The partition's input views (the files of [start, end)); the files they hold."""
        return sum(one.register(self._con, start, end) for one in self._inputs)

    def window_bytes(self, start: datetime, end: datetime) -> int:
        """The bytes of the files a partition [start, end) reads (loaded inputs)."""
        total = 0
        for one in self._inputs:
            low, high = one.bounds(start, end)
            total += one.offsets[high] - one.offsets[low] if one.offsets else 0
        return total

    def windows_table(
        self, windows: Sequence[tuple[datetime, datetime, datetime]]
    ) -> tuple[pa.Table, list[int]]:
        """The rows of `RANGE_WINDOWS` for partitions (window_start, window_end, lookback_start):
        index, bounds and each input's file indexes [low, high); and the files each reads."""
        columns: dict[str, pa.Array] = {
            PARTITION_COLUMN: pa.array(range(len(windows)), pa.int64()),
            "window_start": pa.array([w[0] for w in windows], _UTC_TIMESTAMP),
            "window_end": pa.array([w[1] for w in windows], _UTC_TIMESTAMP),
            "lookback_start": pa.array([w[2] for w in windows], _UTC_TIMESTAMP),
        }
        files = [0] * len(windows)
        for position, one in enumerate(self._inputs):
            bounds = [one.bounds(lookback, end) for _, end, lookback in windows]
            columns[f"_low_{position}"] = pa.array([low for low, _ in bounds], pa.int64())
            columns[f"_high_{position}"] = pa.array([high for _, high in bounds], pa.int64())
            files = [n + high - low for n, (low, high) in zip(files, bounds, strict=True)]
        return pa.table(columns), files

    def ranged_query(self, summary_sql: str) -> str:
        """The summary's SELECT run for every row of `RANGE_WINDOWS` (loaded inputs only), each
        row prefixed with its `PARTITION_COLUMN` and sorted on all columns."""
        views = ",\n".join(
            read_sql(SQL_PACKAGE, "_range_input.sql").format(
                view=one.view, table=one.table, position=position
            )
            for position, one in enumerate(self._inputs)
        )
        return read_sql(SQL_PACKAGE, "_range_query.sql").format(views=views, summary=summary_sql)

    def close(self) -> None:
        for one in self._inputs:
            if one.table is not None:
                self._con.execute(f"DROP TABLE IF EXISTS {one.table}")


def _local_stats(files: Sequence[LakePath]) -> list[os.stat_result] | None:
    """The stats of `files`, or None when one is not local (a blob lake's inputs are read per
    partition, as without a range)."""
    local = [f for f in files if isinstance(f, Path)]
    if len(local) != len(files):
        return None
    return [f.stat() for f in local]


class _FileRows:
    """The rows of input files this process read lately, by file version (path, inode, size,
    modification time: a rebuilt table hour is a new file), at most `budget()` bytes of them.

    The summaries of one run (and the runs of one `azlogs run`) read the same table hours:
    signin_logs' look-back is an input of five summaries, each range of 24 hours reads the 14 days
    before it. Each file version is read (its Parquet footer parsed) once, not once a summary."""

    def __init__(self) -> None:
        self._rows: OrderedDict[tuple[str, int, int, int], pa.Table] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.reads = 0
        """Files read from disk so far."""

    def read(self, path: Path, stat: os.stat_result) -> pa.Table:
        key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key in self._rows:
                self._rows.move_to_end(key)
                return self._rows[key]
        rows = pq.ParquetFile(path).read().replace_schema_metadata(None)
        with self._lock:
            self.reads += 1
            self._rows[key] = rows
            self._bytes += rows.nbytes
            while self._bytes > range_budget() and len(self._rows) > 1:
                _, dropped = self._rows.popitem(last=False)
                self._bytes -= dropped.nbytes
        return rows

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._bytes = 0


FILE_ROWS = _FileRows()
"""The rows of input files read by this process (`_FileRows`)."""


def _load(
    con: duckdb.DuckDBPyConnection,
    name: str,
    files: Sequence[Path],
    stats: Sequence[os.stat_result],
    schema: pa.Schema,
) -> str:
    """The rows of `files` as a session table `_range_<name>`, with their file's index (zero rows
    with `schema`'s columns when there is no file)."""
    table = f"_range_{name}"
    con.execute(f"DROP TABLE IF EXISTS {table}")
    parts = []
    for index, (path, stat) in enumerate(zip(files, stats, strict=True)):
        rows = FILE_ROWS.read(path, stat)
        parts.append(rows.append_column(FILE_INDEX, pa.array([index] * rows.num_rows, pa.int64())))
    if not parts:
        parts = [schema.empty_table().append_column(FILE_INDEX, pa.array([], pa.int64()))]
    con.from_arrow(pa.concat_tables(parts, promote_options="permissive")).create(table)
    return table
