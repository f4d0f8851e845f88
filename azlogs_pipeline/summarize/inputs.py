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

Listed once, before anything is read: a table hour rebuilt while the range is built differs from
the digest its partitions record, so the lake plan builds them again (never the other way round).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from azlogs_pipeline.config import load_build_memory_mb
from azlogs_pipeline.lake.builds import scan_built_hours, window_digest, window_item
from azlogs_pipeline.lake.paths import (
    summary_hour_entries,
    table_hour_entries,
    table_root,
)
from azlogs_pipeline.lake.sessions import relation
from azlogs_pipeline.lake.storage import LakePath
from azlogs_pipeline.sql_files import read_sql
from azlogs_pipeline.summarize.specs import SummarySpec, input_tables, input_window

SQL_PACKAGE = "azlogs_pipeline.summarize"
RANGE_LOAD_FRACTION = 8
"""Inputs of a range are loaded once when their files take at most 1/8 of the memory budget."""
FILE_INDEX = "_azlogs_file_index"
"""The column of a loaded range table naming the file (its index in the range) a row came from."""
SchemaOf = Callable[[str], pa.Schema]


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

    def register(self, con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> int:
        low, high = bisect_left(self.hours, start), bisect_left(self.hours, end)
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
        budget = load_build_memory_mb() * 1024 * 1024 // RANGE_LOAD_FRACTION
        self._inputs = []
        for name, entries, schema in listed:
            files = [path for _, path in entries]
            table = _load(con, name, files) if _fits(files, budget) else None
            self._inputs.append(_Input(name, [h for h, _ in entries], files, schema, table))

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

    def close(self) -> None:
        for one in self._inputs:
            if one.table is not None:
                self._con.execute(f"DROP TABLE IF EXISTS {one.table}")


def _fits(files: Sequence[LakePath], budget: int) -> bool:
    """Worth loading once (two files or more) and small enough; local files only (a blob lake's
    inputs are read per partition, as without a range)."""
    local = [f for f in files if isinstance(f, Path)]
    if len(files) < 2 or len(local) != len(files):
        return False
    return sum(f.stat().st_size for f in local) <= budget


def _load(con: duckdb.DuckDBPyConnection, name: str, files: Sequence[LakePath]) -> str:
    """The rows of `files` as a session table `_range_<name>`, with their file's index."""
    names = [str(f) for f in files]
    con.register("_range_files", pa.table({"filename": names, "file_index": range(len(names))}))
    con.read_parquet(names, hive_partitioning=False, union_by_name=True, filename=True).create_view(
        "_range_rows", replace=True
    )
    table = f"_range_{name}"
    con.execute(f"DROP TABLE IF EXISTS {table}")
    relation(con, read_sql(SQL_PACKAGE, "_range_rows.sql"), f"the range rows of {name}").create(
        table
    )
    con.execute("DROP VIEW _range_rows")
    con.unregister("_range_files")
    return table
