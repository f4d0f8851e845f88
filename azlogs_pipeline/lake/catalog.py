"""The analysts' DuckDB catalog: `azlogs.duckdb`, views over the Parquet lake, opened read-only.

The catalog holds views only, never data: every view reads the Parquet files under the lake when it
is queried, so new hours appear without touching the catalog. The pipeline therefore never needs to
write the catalog during a run (a DuckDB file open read-only by an analyst cannot be written by
another process); it is (re)built only when its definition changes, into a temporary file that
replaces the old one atomically, so open sessions keep working on the old file.

Each lake area also holds a zero-row `_schema.parquet` with the area's columns, so every view
answers on an empty lake (zero rows, the right columns) instead of failing on "no files found".

With the lake in a blob container the views read `az://` globs through DuckDB's azure extension;
the tables' and summaries' views pick one version of each partition (sql/versioned_view.sql).
The catalog file holds no secret: whoever opens it creates a TEMPORARY one (`connect_read_only`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

from azlogs_pipeline.lake.parquet import write_parquet_atomic
from azlogs_pipeline.lake.paths import (
    PARQUET_SUFFIX,
    catalog_path,
    deadletter_root,
    lake_root,
    raw_root,
    schema_seed_path,
    summary_root,
    table_root,
)
from azlogs_pipeline.lake.raw_schema import DEADLETTER_SCHEMA, RAW_RECORDS_SCHEMA
from azlogs_pipeline.lake.storage import LakePath, configure_duckdb, is_remote
from azlogs_pipeline.sql_files import read_sql

_VERSION_TABLE = "azlogs_catalog"
_UNVERSIONED_VIEWS = frozenset({"raw_records", "deadletters"})
"""Raw batch and dead-letter files are never replaced, only added: no versions to pick from."""
SETTLE_SECONDS = 10
"""How old a new version of a blob partition must be before the views choose it."""


def lake_views(
    data_dir: Path,
    tables: Mapping[str, pa.Schema],
    summaries: Mapping[str, pa.Schema] | None = None,
) -> dict[str, tuple[LakePath, pa.Schema]]:
    """View name -> (lake area, schema) for the raw records, dead letters, every table and every
    summary (`summaries` defaults to all of `azlogs_pipeline.summarize.specs.SUMMARIES`, so every
    caller builds the same catalog)."""
    views: dict[str, tuple[LakePath, pa.Schema]] = {
        "raw_records": (raw_root(data_dir), RAW_RECORDS_SCHEMA),
        "deadletters": (deadletter_root(data_dir), DEADLETTER_SCHEMA),
    }
    for name, schema in sorted(tables.items()):
        views[name] = (table_root(data_dir, name), schema)
    if summaries is None:
        from azlogs_pipeline.summarize.build import summary_schemas  # the summaries read tables

        summaries = summary_schemas()
    for name, schema in sorted(summaries.items()):
        views[name] = (summary_root(data_dir, name), schema)
    return views


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _view_sql(name: str, root: LakePath) -> str:
    # Identifiers and paths come from the code, never from data; quote them anyway.
    glob = _literal(str(root.resolve() / "**" / f"*{PARQUET_SUFFIX}"))
    quoted = '"' + name.replace('"', '""') + '"'
    if is_remote(root) and name not in _UNVERSIONED_VIEWS:
        return read_sql("azlogs_pipeline.lake", "versioned_view.sql").format(
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
    return read_sql("azlogs_pipeline.lake", "raw_of.sql").format(raw_root=_literal(str(root)))


def _derived_view_sql(name: str, select: str) -> str:
    return f'CREATE OR REPLACE VIEW "{name}" AS\n{select}'


def derived_views() -> dict[str, str]:
    """View name -> SELECT of the views over other views (e.g. `detections`, all findings)."""
    from azlogs_pipeline.summarize.build import catalog_views  # the summaries read tables

    return catalog_views()


def _fingerprint(
    views: Mapping[str, tuple[LakePath, pa.Schema]], derived: Mapping[str, str], macros: str
) -> str:
    text = "\n".join(_view_sql(name, root) + str(schema) for name, (root, schema) in views.items())
    text += "\n".join(_derived_view_sql(name, select) for name, select in derived.items())
    text += macros
    return hashlib.sha256(text.encode()).hexdigest()


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
    summaries: Mapping[str, pa.Schema] | None = None,
) -> Path:
    """Make sure `azlogs.duckdb` has a view per lake area; rebuild it only when that changes."""
    views = lake_views(data_dir, tables, summaries)
    for root, schema in views.values():
        seed = schema_seed_path(root)
        if not seed.exists():
            write_parquet_atomic(schema.empty_table(), seed)
    path = catalog_path(data_dir)
    derived = derived_views()
    macros = _raw_of_sql(data_dir)
    fingerprint = _fingerprint(views, derived, macros)
    if _current_fingerprint(path) == fingerprint:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(tmp)) as con:
            configure_duckdb(con)  # a TEMPORARY secret: never written to the catalog file
            for name, (root, _) in views.items():
                con.execute(_view_sql(name, root))
            for name, select in derived.items():
                con.execute(_derived_view_sql(name, select))
            con.execute(macros)
            con.execute(f"CREATE TABLE {_VERSION_TABLE} (fingerprint VARCHAR)")
            con.execute(f"INSERT INTO {_VERSION_TABLE} VALUES (?)", [fingerprint])
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


READ_ONLY_STATEMENTS = frozenset(
    {
        duckdb.StatementType.SELECT,
        duckdb.StatementType.EXPLAIN,
        duckdb.StatementType.PRAGMA,
        duckdb.StatementType.SET,
        duckdb.StatementType.CREATE,
        duckdb.StatementType.DROP,
        duckdb.StatementType.TRANSACTION,
    }
)
"""What an analyst's session may run. The catalog is attached read-only, so CREATE and DROP can
only touch the session's own temporary objects; refused are the statements that write files or
reach outside the catalog (COPY, EXPORT, ATTACH, INSTALL, LOAD, PREPARE/EXECUTE, CALL, ...)."""

SESSION_SETTINGS = (
    "timezone",
    "calendar",
    "threads",
    "default_order",
    "default_null_order",
    "enable_progress_bar",
    "progress_bar_time",
)
"""Settings an analyst may still change once the session is locked (everything else is fixed)."""

_EXPLAIN = re.compile(r"\s*EXPLAIN(\s+ANALYZE)?\s+", re.IGNORECASE)


class ReadOnlyError(Exception):
    """A statement an analyst's session does not run; the message says what to do instead."""


def read_only_statements(con: duckdb.DuckDBPyConnection, sql: str) -> list[duckdb.Statement]:
    """The statements of `sql`, or ReadOnlyError on the first one that is not for reading.

    DuckDB's own guard (`enable_external_access` off, reads allowed in the lake only) cannot
    tell a read from a write inside the lake, so a COPY into it would add rows to a view: this
    refuses the statement before it runs."""
    statements = con.extract_statements(sql)
    for statement in statements:
        _check_read_only(con, statement)
    return statements


def _check_read_only(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> None:
    kind = statement.type
    if kind == duckdb.StatementType.EXPLAIN:
        # EXPLAIN ANALYZE runs the statement it explains.
        explained = _EXPLAIN.sub("", statement.query, count=1)
        for inner in con.extract_statements(explained):
            _check_read_only(con, inner)
        return
    if kind not in READ_ONLY_STATEMENTS:
        first = " ".join(statement.query.split()[:2])
        raise ReadOnlyError(
            f"{kind.name} statements are refused ({first} ...): azlogs sql is for reading the "
            "catalog. Query the views with SELECT; to keep a result, use --format csv or json "
            "and redirect the output."
        )


def readable_prefixes(data_dir: Path) -> list[str]:
    """Where an analyst's session may read files: the lake, nothing else."""
    return [str(lake_root(data_dir).resolve()) + "/"]


def setup_session(con: duckdb.DuckDBPyConnection, data_dir: Path) -> None:
    """Everything an analyst's session runs before its first statement, in this order: UTC like
    the pipeline, no persistent secrets, what the lake needs to be read (a blob lake's azure
    extension and TEMPORARY secret, `storage.configure_duckdb`), then the lock: files outside the lake cannot be read, nothing can be written, no
    extension loaded, no setting but `SESSION_SETTINGS` changed."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET allow_persistent_secrets = false")
    configure_duckdb(con)  # a blob lake: the azure extension and a TEMPORARY secret
    con.execute("SET allowed_directories = $dirs", {"dirs": readable_prefixes(data_dir)})
    con.execute("SET allowed_configs = $names", {"names": list(SESSION_SETTINGS)})
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def connect_read_only(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """An analyst's connection: read-only, so it never blocks or is blocked by a pipeline run, and
    locked to the lake (`setup_session`); run analysts' SQL through `read_only_statements`."""
    path = catalog_path(data_dir)
    if not path.exists():
        raise FileNotFoundError(
            f"No catalog at {path}. Run `azlogs run` (or `make demo`) first, or set "
            "AZLOGS_DATA_DIR to the data directory the pipeline writes."
        )
    con = duckdb.connect(str(path), read_only=True)
    try:
        setup_session(con, data_dir)
    except BaseException:
        con.close()
        raise
    return con
