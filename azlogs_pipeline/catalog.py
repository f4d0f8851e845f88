"""The analysts' DuckDB catalog, `azlogs.duckdb`: a view per lake area, above the tables and summaries.

The catalog holds views only, never data: every view reads the Parquet files under the lake when it
is queried, so new hours appear without touching the catalog. It is (re)built only when its
definition changes (a view's name or area, the views over views, the macros), into a temporary
file that replaces the old one atomically, so open sessions keep working on the old file. A
view binds its columns when it is queried, so a changed table schema needs no rebuild.

Each lake area also holds a zero-row `_schema.parquet` with the area's columns, so every view
answers on an empty lake (zero rows, the right columns) instead of failing on "no files found".
A schema is asked for only where that seed is missing: a table's or summary's schema is its SQL
run over empty inputs, so `refresh_catalog` on a lake that has its seeds (a raw drain, any later
run) runs none of that SQL.

With the lake in a blob container the views read `az://` globs through DuckDB's azure extension;
the tables' and summaries' views pick one version of each partition (sql/versioned_view.sql).
The catalog file holds no secret; the analysts' sessions over it are lake/read_only.py's.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa

from azlogs_pipeline.lake.parquet import write_parquet_atomic
from azlogs_pipeline.lake.paths import (
    PARQUET_SUFFIX,
    catalog_path,
    deadletter_root,
    raw_root,
    schema_seed_path,
    summary_root,
    table_root,
)
from azlogs_pipeline.lake.raw_schema import DEADLETTER_SCHEMA, RAW_RECORDS_SCHEMA
from azlogs_pipeline.lake.storage import LakePath, configure_duckdb, is_remote
from azlogs_pipeline.normalize.hour import table_schema
from azlogs_pipeline.normalize.tables import TABLE_NAMES
from azlogs_pipeline.sql_files import read_sql
from azlogs_pipeline.summarize.build import catalog_views, summary_schema
from azlogs_pipeline.summarize.specs import summary_names

_VERSION_TABLE = "azlogs_catalog"
_UNVERSIONED_VIEWS = frozenset({"raw_records", "deadletters"})
"""Raw batch and dead-letter files are never replaced, only added: no versions to pick from."""
SETTLE_SECONDS = 10
"""How old a new version of a blob partition must be before the views choose it."""


class LazySchemas(Mapping[str, pa.Schema]):
    """Names known at once, each schema computed the first time it is asked for."""

    def __init__(self, names: Iterable[str], schema_of: Callable[[str], pa.Schema]) -> None:
        self._names = tuple(names)
        self._schema_of = schema_of

    def __getitem__(self, name: str) -> pa.Schema:
        if name not in self._names:
            raise KeyError(name)
        return self._schema_of(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def lake_views(
    data_dir: Path, tables: Mapping[str, pa.Schema], summaries: Mapping[str, pa.Schema]
) -> dict[str, tuple[LakePath, Callable[[], pa.Schema]]]:
    """View name -> (lake area, its schema when asked) for the raw records, the dead letters and
    the given tables and summaries."""
    views: dict[str, tuple[LakePath, Callable[[], pa.Schema]]] = {
        "raw_records": (raw_root(data_dir), lambda: RAW_RECORDS_SCHEMA),
        "deadletters": (deadletter_root(data_dir), lambda: DEADLETTER_SCHEMA),
    }
    for name in sorted(tables):
        views[name] = (table_root(data_dir, name), partial(tables.__getitem__, name))
    for name in sorted(summaries):
        views[name] = (summary_root(data_dir, name), partial(summaries.__getitem__, name))
    return views


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _view_sql(name: str, root: LakePath) -> str:
    # Identifiers and paths come from the code, never from data; quote them anyway.
    glob = _literal(str(root.resolve() / "**" / f"*{PARQUET_SUFFIX}"))
    quoted = '"' + name.replace('"', '""') + '"'
    if is_remote(root) and name not in _UNVERSIONED_VIEWS:
        return read_sql("azlogs_pipeline", "versioned_view.sql").format(
            name=quoted, glob=glob, settle_us=int(SETTLE_SECONDS * 1_000_000)
        )
    # A blob area reads each file's schema only when needed: union_by_name would open every file
    # when the query is bound (one request per file).
    union = "" if is_remote(root) else ", union_by_name = true"
    return f"CREATE OR REPLACE VIEW {quoted} AS SELECT * FROM read_parquet({glob}{union})"


def _raw_of_sql(data_dir: Path) -> str:
    """The `raw_of(record_id, event_time)` macro: a table row's raw record, from its hour's raw
    files only (sql/raw_of.sql)."""
    root = raw_root(data_dir).resolve()
    return read_sql("azlogs_pipeline", "raw_of.sql").format(raw_root=_literal(str(root)))


def _derived_view_sql(name: str, select: str) -> str:
    return f'CREATE OR REPLACE VIEW "{name}" AS\n{select}'


def _fingerprint(statements: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(statements).encode()).hexdigest()


def _current_fingerprint(path: Path) -> str | None:
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(f"SELECT fingerprint FROM {_VERSION_TABLE}").fetchone()
    except duckdb.Error:
        return None
    return str(row[0]) if row else None


def ensure_catalog(
    data_dir: Path,
    tables: Mapping[str, pa.Schema],
    summaries: Mapping[str, pa.Schema],
    derived: Mapping[str, str],
) -> Path:
    """Make sure `azlogs.duckdb` has a view per lake area (the raw records, the dead letters,
    `tables`, `summaries`) and the `derived` views over them (name -> SELECT), and every area its
    schema seed; rebuild the file only when that changes. A schema is read only for a missing
    seed."""
    views = lake_views(data_dir, tables, summaries)
    for root, schema in views.values():
        seed = schema_seed_path(root)
        if not seed.exists():
            write_parquet_atomic(schema().empty_table(), seed)
    statements = [_view_sql(name, root) for name, (root, _) in views.items()]
    statements += [_derived_view_sql(name, select) for name, select in derived.items()]
    statements.append(_raw_of_sql(data_dir))
    path = catalog_path(data_dir)
    fingerprint = _fingerprint(statements)
    if _current_fingerprint(path) == fingerprint:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(tmp)) as con:
            configure_duckdb(con)  # a TEMPORARY secret: never written to the catalog file
            for statement in statements:
                con.execute(statement)
            con.execute(f"CREATE TABLE {_VERSION_TABLE} (fingerprint VARCHAR)")
            con.execute(f"INSERT INTO {_VERSION_TABLE} VALUES (?)", [fingerprint])
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def refresh_catalog(data_dir: Path) -> Path:
    """The catalog of every normalized table and every summary (and the views over them): what
    the pipeline keeps current, once at the start of each run (`resources.AzlogsSettings`)."""
    return ensure_catalog(
        data_dir,
        LazySchemas(TABLE_NAMES, table_schema),
        LazySchemas(summary_names(), summary_schema),
        catalog_views(),
    )
