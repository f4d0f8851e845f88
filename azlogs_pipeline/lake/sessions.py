"""The DuckDB sessions that build tables and summaries, and the one error their SQL raises.

A build session is in memory and keeps to the build's memory budget (`AZLOGS_BUILD_MEMORY_MB`):
one thread per `MEMORY_MB_PER_THREAD`, and with ``scratch`` (the data dir's local scratch
directory, also for a blob lake) what does not fit spills to a directory of its own there, which
DuckDB removes when the session closes; without it nothing spills. It can read the lake wherever
it is (`configure_duckdb`). The analysts' read-only sessions are lake/read_only.py's.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from azlogs_pipeline.config import load_build_memory_mb
from azlogs_pipeline.errors import AzlogsError
from azlogs_pipeline.lake.storage import configure_duckdb
from azlogs_pipeline.pids import is_alive

MEMORY_MB_PER_THREAD = 1024
"""Build memory per DuckDB thread: the dedupe windows and the sort spill reliably with 1 GB each
(two threads in 1 GB ran out of memory on a 200,000-record hour)."""


SPILL_PREFIX = "duckdb-"
"""A session's spill directory is `<scratch>/duckdb-<pid>-<random>-<host>`: its process is in
its name, and the host, since a data directory may be on a volume that several hosts share."""


def _spill_dir_name() -> str:
    return f"{SPILL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}-{socket.gethostname()}"


def sweep_spill_dirs(scratch: Path) -> int:
    """Remove the spill directories of this host's build processes that are gone (killed before
    DuckDB could remove them); a live process's directory, and another host's, are kept.
    Returns how many were removed."""
    removed = 0
    host = socket.gethostname()
    for directory in scratch.glob(f"{SPILL_PREFIX}*-*-*"):
        pid, _, owner = directory.name[len(SPILL_PREFIX) :].split("-", 2)
        if owner != host or not pid.isdigit() or is_alive(int(pid)):
            continue
        shutil.rmtree(directory, ignore_errors=True)
        removed += 1
    return removed


class SqlError(AzlogsError, RuntimeError):
    """A build's SQL failed: the message names the statement (its file or table) and DuckDB's
    reason."""


def build_session(
    macros: Iterable[str] = (), *, timezone: str = "UTC", scratch: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory session within the memory budget, with the given macro scripts run in order.

    ``timezone`` is the session zone; results must not depend on it (the tests check with
    another one)."""
    con = duckdb.connect(":memory:")
    budget = load_build_memory_mb()
    threads = max(1, min(os.cpu_count() or 1, budget // MEMORY_MB_PER_THREAD))
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET memory_limit = $limit", {"limit": f"{budget}MB"})
    spill = ""
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
        spill = str(scratch / _spill_dir_name())
    con.execute("SET temp_directory = $directory", {"directory": spill})
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = $zone", {"zone": timezone})
    con.execute("SET enable_progress_bar = false")
    for script in macros:
        con.execute(script)
    configure_duckdb(con)
    return con


def relation(con: duckdb.DuckDBPyConnection, query: str, what: str) -> duckdb.DuckDBPyRelation:
    """`query` as a relation (for streaming it to a file); a DuckDB error names `what`."""
    try:
        return con.sql(query)
    except duckdb.Error as exc:
        raise SqlError(f"{what} failed: {exc}") from exc


def query_arrow(con: duckdb.DuckDBPyConnection, query: str, what: str) -> pa.Table:
    """The rows of `query` as an Arrow table; a DuckDB error names `what`."""
    try:
        table: pa.Table = con.sql(query).to_arrow_table()
    except duckdb.Error as exc:
        raise SqlError(f"{what} failed: {exc}") from exc
    return table
