"""The analysts' session over the catalog (`azlogs.duckdb`): read-only, locked to the lake.

A read-only connection never blocks a pipeline run nor is blocked by one; the lock keeps the
session to reading the lake (`setup_session`), and `read_only_statements` refuses what would
write. The catalog file holds no secret: a blob lake's session creates a TEMPORARY one
(`storage.configure_duckdb`). Which views the catalog holds is azlogs_pipeline/catalog.py's.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from azlogs_pipeline.lake.paths import catalog_path, lake_root
from azlogs_pipeline.lake.storage import configure_duckdb

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
