"""The instance's SQLite storage keeps its databases open (instance_storage.py): every event a
killed process committed is there, and a watcher of a run (the UI's live log) hears of it."""

import logging
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from azlogs_pipeline.instance import dagster_home
from azlogs_pipeline.instance_storage import LakeSqliteEventLogStorage

HOURS = dg.HourlyPartitionsDefinition(start_date="2026-11-01-00:00")

KILLED_WRITER = """
import os, signal, sys
import dagster as dg
from azlogs_pipeline_tests.test_instance_storage import HOURS, tiny

instance = dg.DagsterInstance.from_config(sys.argv[1])
result = dg.materialize(
    [tiny],
    instance=instance,
    tags={
        "dagster/asset_partition_range_start": "2026-11-01-00:00",
        "dagster/asset_partition_range_end": "2026-11-01-05:00",
    },
)
print(result.run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no dispose, no close: the databases are left open
"""


with warnings.catch_warnings():  # backfill_policy is beta on `asset`
    warnings.simplefilter("ignore", category=dg.BetaWarning)

    @dg.asset(partitions_def=HOURS, backfill_policy=dg.BackfillPolicy.single_run())
    def tiny(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"hours": len(context.partition_keys)})


@pytest.mark.integration  # a Dagster run in its own process
def test_a_killed_run_process_loses_none_of_its_events(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = dagster_home(tmp_path)
    assert "class: LakeSqliteStorage" in (home / "dagster.yaml").read_text()
    writer = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(home)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert writer.returncode == -9, writer.stderr[-2000:]
    run_id = writer.stdout.split()[0]
    assert list(home.rglob(f"{run_id}.db-wal")), "the killed process left its log unmerged"

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, LakeSqliteEventLogStorage)
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        records = instance.fetch_materializations(tiny.key, limit=100).records
        assert sorted(r.partition_key for r in records) == [f"2026-11-01-0{h}:00" for h in range(6)]
        planned = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
        assert planned, "the run's planned materializations are recorded too"
        assert instance.get_run_stats(run_id).materializations == 6


def _log_event(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None,
        level=logging.INFO,
        user_message=message,
        run_id=run_id,
        timestamp=time.time(),
        step_key=None,
        job_name=None,
        dagster_event=None,
    )


def test_a_watcher_of_a_run_hears_of_events_while_its_writer_keeps_it_open(
    tmp_path: Path,
) -> None:
    writer = LakeSqliteEventLogStorage(str(tmp_path))
    reader = LakeSqliteEventLogStorage(str(tmp_path))
    heard: list[str] = []
    got_all = threading.Event()

    def callback(event: EventLogEntry, _cursor: str) -> None:
        heard.append(event.user_message)
        if len(heard) >= 3:
            got_all.set()

    try:
        writer.store_event(_log_event("r1", "first"))  # opens and keeps r1.db
        reader.watch("r1", None, callback)
        writer.store_event(_log_event("r1", "second"))
        writer.store_event(_log_event("r1", "third"))
        assert got_all.wait(timeout=20), f"the watcher heard only {heard}"
        assert (tmp_path / "r1.db-wal").stat().st_size > 0, "the writer's log stays open"
    finally:
        reader.end_watch("r1", callback)
        reader.dispose()
        writer.dispose()
    assert heard == ["first", "second", "third"]


with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.BetaWarning)

    @dg.asset(partitions_def=HOURS, backfill_policy=dg.BackfillPolicy.single_run())
    def broken(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        raise RuntimeError(f"no hours today ({len(context.partition_keys)})")


with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.BetaWarning)

    @dg.asset(
        partitions_def=HOURS,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[dg.AssetCheckSpec("has_hours", asset="checked")],
    )
    def checked(context: dg.AssetExecutionContext) -> Iterator[object]:
        yield dg.MaterializeResult(metadata={"hours": len(context.partition_keys)})
        yield dg.AssetCheckResult(check_name="has_hours", passed=True)


RANGE = {
    "dagster/asset_partition_range_start": "2026-11-01-00:00",
    "dagster/asset_partition_range_end": "2026-11-01-05:00",
}
RANGE_KEYS = [f"2026-11-01-0{h}:00" for h in range(6)]


def _ranged_runs(instance: dg.DagsterInstance) -> dict[str, object]:
    """A ranged run that succeeds and one that fails; what the instance says of them."""
    good = dg.materialize([tiny], instance=instance, tags=RANGE)
    bad = dg.materialize([broken], instance=instance, tags=RANGE, raise_on_error=False)
    with_check = dg.materialize([checked], instance=instance, tags=RANGE)
    again = dg.materialize([tiny], instance=instance, tags=RANGE)
    assert good.success and not bad.success and with_check.success and again.success

    def planned(run_id: str) -> list[tuple[str, str | None, str]]:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
        events = [r.event_log_entry.get_dagster_event() for r in records]
        return [(e.asset_key.to_user_string(), e.partition, e.message or "") for e in events]

    found: dict[str, object] = {
        "planned": [planned(good.run_id), planned(bad.run_id)],
        "status": [
            instance.get_status_by_partition(asset.key, RANGE_KEYS, HOURS)
            for asset in (tiny, broken)
        ],
        "materialized": [
            (
                r.storage_id,
                r.run_id == again.run_id,
                r.partition_key,
                r.asset_materialization.metadata if r.asset_materialization else None,
                sorted((r.asset_materialization.tags or {}) if r.asset_materialization else {}),
            )
            for asset in (tiny, checked)
            for r in instance.fetch_materializations(asset.key, 100).records
        ],
        "latest": [
            (r.asset_entry.last_materialization_record.storage_id, r.asset_entry.last_run_id)  # type: ignore[union-attr]
            == (
                instance.fetch_materializations(asset.key, 1).records[0].storage_id,
                run,
            )
            for asset, run in ((tiny, again.run_id), (checked, with_check.run_id))
            for r in instance.get_asset_records([asset.key])
        ],
        "checks": [
            (c.partition, c.status, c.run_id == with_check.run_id)
            for c in instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(checked.key, "has_hours"), limit=100
            )
        ],
        "run_events": [
            [
                r.event_log_entry.dagster_event_type
                for r in instance.get_records_for_run(run).records
            ]
            for run in (good.run_id, bad.run_id, with_check.run_id, again.run_id)
        ],
    }
    for asset in (tiny, broken):
        info = instance.event_log_storage.get_latest_planned_materialization_info(
            asset.key, RANGE_KEYS[3]
        )
        assert info is not None and info.run_id == (again if asset is tiny else bad).run_id
        (record,) = instance.get_asset_records([asset.key])
        assert record.asset_entry.last_run_id == (again if asset is tiny else bad).run_id
    return found


@pytest.mark.integration  # Dagster runs
def test_a_ranged_run_is_planned_per_partition_as_with_dagsters_own_storage(
    tmp_path: Path, monkeypatch
) -> None:
    """One planned event per asset of a ranged run (`store_event` expands it) and its partitions'
    materializations stored as batches: the same events per partition, the same per-partition
    status (materialized, failed), materialization records, asset rows and check executions as
    Dagster's storage (which stores them one by one)."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    home = dagster_home(tmp_path / "lake")
    (tmp_path / "dagster").mkdir()
    with (
        dg.DagsterInstance.from_config(str(home)) as instance,
        dg.DagsterInstance.local_temp(str(tmp_path / "dagster")) as dagsters,
    ):
        storage = instance.event_log_storage
        assert isinstance(storage, LakeSqliteEventLogStorage)
        assert storage.supports_partition_subset_in_asset_materialization_planned_events
        batches: list[list[str]] = []
        store_batch = storage.store_event_batch

        def heard(events: Sequence[EventLogEntry]) -> None:
            batches.append([e.get_dagster_event().event_type_value for e in events])
            store_batch(events)

        monkeypatch.setattr(storage, "store_event_batch", heard)
        ours = _ranged_runs(instance)
        materialized = [b for b in batches if set(b) == {"ASSET_MATERIALIZATION"}]
        assert [len(b) for b in materialized] == [6, 6, 6], batches  # tiny, checked, tiny again
        # batching is this instance's own: another one in the same process stores event by event
        assert not dagsters._is_batch_writing_enabled()
        assert not dagsters.event_log_storage.supports_partition_subset_in_asset_materialization_planned_events
        theirs = _ranged_runs(dagsters)
    assert ours == theirs
    planned_checks = [c for c in ours["checks"] if c[1] == AssetCheckExecutionRecordStatus.PLANNED]  # type: ignore[attr-defined]
    assert sorted(c[0] for c in planned_checks) == RANGE_KEYS  # a row per partition of the run
    assert ours["planned"][0] == [  # type: ignore[index]
        ("tiny", key, '__ephemeral_asset_job__ intends to materialize asset ["tiny"]')
        for key in RANGE_KEYS
    ]
    assert ours["status"][1] == dict.fromkeys(RANGE_KEYS, dg.AssetPartitionStatus.FAILED)  # type: ignore[index]
