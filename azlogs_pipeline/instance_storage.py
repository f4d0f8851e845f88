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

A ranged run (24 hours of 19 hourly assets) is planned with one "materialization planned" event
per asset and hour: created one by one, each a transaction of its own in the run's database and
the index, 12% of a sparse backfill's time (bench/README.md). This storage says it takes a planned
event that carries the run's partitions (`supports_partition_subset_in_asset_materialization_
planned_events`, a switch of Dagster's event log storages) and stores it as the very events
Dagster would have sent one by one, one per partition, in one transaction per database: the same
rows, so the UI and the daemon's automation still see every hour of the range planned, in
progress, failed or materialized.

The step of a ranged run then reports one materialization per partition: Dagster hands them to the
storage as one batch (`store_event_batch`) only when event batching is on, which it reads from
`DAGSTER_EVENT_BATCH_SIZE`, process-wide (every instance of the process, whatever its storage).
This storage turns batching on for the instance it belongs to only (`register_instance`) and
stores a batch in one transaction per database, one insert of all its events: the rows
`store_event` writes for each, in the same order, with the asset's row as the last event leaves
it (as Dagster's PostgreSQL storage does). Each batch is one step output's partitions, stored
before the step goes on; a failed batch write is stored event by event (Dagster's fallback).
"""

import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
import sqlalchemy.exc as db_exc
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationPlanned,
)
from dagster._core.event_api import EventHandlerFn
from dagster._core.events import (
    AssetMaterializationPlannedData,
    DagsterEvent,
    DagsterEventType,
)
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    AssetKeyTable,
    SqlEventLogStorageTable,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData, serialize_value
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, StaticPool
from watchdog.events import FileSystemEvent
from watchdog.observers import Observer

INSERT_ROWS = 500
"""Events per insert statement (7 values a row: within SQLite's limit of variables)."""
BATCHED_EVENTS = frozenset(
    {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_OBSERVATION}
)
"""What `store_event_batch` stores in one transaction (others: event by event)."""
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

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        """One planned event per asset of a ranged run (stored per partition, `store_event`)."""
        return True

    def store_event(self, event: EventLogEntry) -> None:
        per_partition = _planned_per_partition(event)
        if per_partition is None:
            super().store_event(event)
            return
        for first in range(0, len(per_partition), INSERT_ROWS):
            chunk = per_partition[first : first + INSERT_ROWS]
            statement = self.prepare_insert_event_batch(chunk)  # serialized once, for both
            with self.run_connection(event.run_id) as conn:
                conn.execute(statement)
            with self.index_transaction() as conn:
                event_id = conn.execute(statement).lastrowid  # the last row's
                self._store_asset_event(conn, chunk[-1], event_id)  # as the last leaves it

    def register_instance(self, instance: Any) -> None:
        """Turn Dagster's event batching on for `instance` (see module) when it has the switch;
        without it (another Dagster version), events are stored one by one, as before."""
        super().register_instance(instance)
        if hasattr(type(instance), "_get_event_batch_size"):
            setattr(instance, "_get_event_batch_size", lambda: INSERT_ROWS)  # noqa: B010

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """The materializations (or observations) of one step's partitions (see module), each
        as `store_event` stores it, in one insert per database."""
        runs = {event.run_id for event in events}
        if len(runs) != 1 or any(
            event.dagster_event_type not in BATCHED_EVENTS for event in events
        ):
            super().store_event_batch(events)
            return
        for first in range(0, len(events), INSERT_ROWS):
            chunk = events[first : first + INSERT_ROWS]
            statement = self.prepare_insert_event_batch(chunk)  # serialized once, for both
            with self.run_connection(chunk[0].run_id) as conn:
                conn.execute(statement)
            with self.index_transaction() as conn:
                returned = conn.execute(statement.returning(SqlEventLogStorageTable.c.id))
                event_ids = [int(row[0]) for row in returned]
                self._store_asset_event_tags(conn, chunk, event_ids)
                last = {event.get_dagster_event().asset_key: n for n, event in enumerate(chunk)}
                for n in sorted(last.values()):  # each asset's row as its last event leaves it
                    self._store_asset_event(conn, chunk[n], event_ids[n])

    def _store_asset_check_evaluation_planned(
        self, event: EventLogEntry, event_id: int | None
    ) -> None:
        """Dagster's rows, one per partition of the run, with the event serialized once for all
        of them: Dagster serializes it again for every row (a ranged run of 336 hours spent
        0.9 ms a row, 28 checks x 336 rows)."""
        planned = event.get_dagster_event().event_specific_data
        assert isinstance(planned, AssetCheckEvaluationPlanned)
        subset = planned.partitions_subset
        keys: list[str | None] = list(subset.get_partition_keys()) if subset else [None]
        common = {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "run_id": event.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event": serialize_value(event),
            "evaluation_event_timestamp": self._event_insert_timestamp(event),
            "evaluation_event_storage_id": event_id,
        }
        with self.index_connection() as conn:  # one statement, executed for every row
            conn.execute(
                AssetCheckExecutionsTable.insert(), [{**common, "partition": key} for key in keys]
            )

    def _store_asset_event(self, conn: Connection, event: EventLogEntry, event_id: int) -> None:
        """Dagster's, but the asset's row is updated first and inserted only when missing: its
        insert fails on every event of an asset that has one (an exception per event)."""
        dagster_event = event.dagster_event
        if dagster_event is None or dagster_event.asset_key is None:
            return
        values = self._get_asset_entry_values(
            event, event_id, self._has_asset_key_index_cols_on_connection(conn)
        )
        if not values:
            return
        key = dagster_event.asset_key.to_string()
        update = AssetKeyTable.update().values(**values).where(AssetKeyTable.c.asset_key == key)
        if conn.execute(update).rowcount:
            return
        try:
            conn.execute(AssetKeyTable.insert().values(asset_key=key, **values))
        except db_exc.IntegrityError:  # another process inserted it meanwhile
            conn.execute(update)

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


def _planned_per_partition(event: EventLogEntry) -> list[EventLogEntry] | None:
    """A planned event carrying a run's partitions as the events Dagster sends one per partition
    (`RunDomain.get_materialization_planned_events_for_asset`); None for any other event."""
    dagster_event = event.dagster_event
    if dagster_event is None or (
        dagster_event.event_type != DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ):
        return None
    planned = dagster_event.asset_materialization_planned_data
    if planned is None or planned.partitions_subset is None:
        return None
    return [
        event._replace(
            dagster_event=DagsterEvent.build_asset_materialization_planned_event(
                dagster_event.job_name,
                dagster_event.step_key or "",
                AssetMaterializationPlannedData(planned.asset_key, partition=key),
            )
        )
        for key in planned.partitions_subset.get_partition_keys()
    ]


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
