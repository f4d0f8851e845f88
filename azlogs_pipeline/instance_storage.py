"""The Dagster instance's local SQLite storage, with event writes that cost a commit, not a file.

Dagster's `SqliteEventLogStorage` creates an engine and a connection for every event it stores
and disposes of them after. The database is in WAL mode, so closing its last connection
checkpoints the log into the database file and deletes it (two fsyncs), and every commit fsyncs
the log (SQLite's default `synchronous=FULL`): about 35 ms per event on this project's machine,
and a ranged build records two events per asset per hour (planned, materialized). 24 hours of
the 19 hourly assets spent 35 s of 63 s there (bench/README.md, "Building many hours").

`LakeSqliteStorage` is Dagster's SQLite storage (same files, same tables, same layout under
`base_dir`) whose event log keeps one connection per database open (the index and the few run
databases used last) with `synchronous=NORMAL`. SQLite's WAL mode with `NORMAL` keeps every
committed event through a killed process (kill -9, an OOM kill): the commit is in the log file,
which the next connection replays. Only a power loss or an OS crash may lose the last commits
(never corrupting the file); what needs building is read from the lake, not from these records,
so such a loss rebuilds nothing wrongly and loses no data. Readers (webserver, daemon) see every
commit at once, as before. `instance.instance_yaml` names this class in the instance's dagster.yaml.
"""

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster._core.event_api import EventHandlerFn
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, StaticPool
from watchdog.events import FileSystemEvent
from watchdog.observers import Observer

OPEN_RUN_DATABASES = 4
"""Run databases kept open besides the index (each is one file handle, plus its -wal and -shm)."""


class LakeSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` that reuses one open connection per database (see module)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        self._tables_seen: set[str] = set()
        self._asset_key_columns_seen: set[str] = set()
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        if self._engines_pid != os.getpid():  # a forked child never shares its parent's handles
            self._engines = OrderedDict()
            self._engines_pid = os.getpid()
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        if shard not in self._initialized_dbs:  # Dagster's own way, on a throwaway engine
            first = db.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._initdb(first)
            first.dispose()
            self._initialized_dbs.add(shard)
        engine = db.create_engine(
            self.conn_string_for_shard(shard),
            poolclass=StaticPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        db.event.listen(engine, "connect", _synchronous_normal)
        self._engines[shard] = engine
        runs_open = [name for name in self._engines if name != INDEX_SHARD_NAME]
        for name in runs_open[:-OPEN_RUN_DATABASES]:
            self._engines.pop(name).dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Dagster asks before writing every asset event's tags, on a new engine each time; a
        table, once there, stays (migrations add, never drop)."""
        if table_name in self._tables_seen:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables_seen.add(table_name)
        return found

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        """Asked for every asset event (a schema inspection each time); columns stay too."""
        if column_name in self._asset_key_columns_seen:
            return True
        found = super()._has_asset_key_col_on_connection(conn, column_name)
        if found:
            self._asset_key_columns_seen.add(column_name)
        return found

    def close_databases(self) -> None:
        """Close every open database (their logs are checkpointed into the files)."""
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def delete_events(self, run_id: str) -> None:
        super().delete_events(run_id)
        with self._db_lock:
            engine = self._engines.pop(run_id, None)
            if engine is not None:
                engine.dispose()

    def wipe(self) -> None:
        self.close_databases()  # before the run databases' files are removed
        super().wipe()

    def watch(self, run_id: str, cursor: str | None, callback: EventHandlerFn) -> None:
        """As Dagster's, but hearing of writes to the run database's log (`-wal`) too: with the
        connection kept open, a commit changes only that file until the next checkpoint."""
        observer: Any = self._obs
        if observer is None:
            observer = self._obs = Observer()  # type: ignore[assignment]  # None in Dagster's hints
            observer.start()
        watchdog = _RunLogWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (
            watchdog,
            observer.schedule(watchdog, self._base_dir, recursive=True),
        )

    def dispose(self) -> None:
        super().dispose()
        self.close_databases()


class _RunLogWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watchdog of one run's database, matching its `-wal` file as well."""

    @property
    def patterns(self) -> list[str]:
        return [self._log_path, f"{self._log_path}-wal"]

    def on_modified(self, event: FileSystemEvent) -> None:
        self._process_log()


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class LakeSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, schedules, events under `base_dir`) with the event log of
    `LakeSqliteEventLogStorage`. In dagster.yaml: ``storage: custom: module:
    azlogs_pipeline.instance_storage, class: LakeSqliteStorage, config: {base_dir: ...}``."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(base_dir, inst_data)
        self._event_log_storage.dispose()
        self._event_log_storage = LakeSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData, config_value: dict[str, str]
    ) -> "LakeSqliteStorage":
        return cls.from_local(inst_data=inst_data, **config_value)
