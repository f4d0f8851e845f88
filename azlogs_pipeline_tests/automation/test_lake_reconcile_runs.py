"""`azlogs run` builds what the lake says needs building: a run killed between its drain's
checkpoint and its build, or a build that failed, leaves nothing that later runs do not build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from azlogs_pipeline.cli import main
from azlogs_pipeline.config import load_settings
from azlogs_pipeline.instance import open_instance
from azlogs_pipeline.lake.paths import raw_hour_dir
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.runner import build_pending, drain_all, lake_plan
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.stack import LocalStack
from azlogs_pipeline_tests.ingest.test_drain import checkpoint_of
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw

HUB = "adlogs"
KILLED_AFTER_DRAIN = (
    "import os, signal; from azlogs_pipeline.config import load_settings; "
    "from azlogs_pipeline.instance import open_instance; from azlogs_pipeline.runner import drain_all; "
    "settings = load_settings(); instance = open_instance(settings.data_dir).__enter__(); "
    "assert all(run.success for run in drain_all(instance, settings)); "
    "os.kill(os.getpid(), signal.SIGKILL)"  # what `azlogs run` does first, then kill -9
)


def signins(hour: int, count: int, first: int = 0) -> list[bytes]:
    bodies = []
    for n in range(first, first + count, 50):
        records = [
            {
                "category": "SignInLogs",
                "time": f"2026-11-20T{hour:02d}:00:00Z",
                "properties": {
                    "id": f"s-{hour}-{i}",
                    "createdDateTime": f"2026-11-20T{hour:02d}:{i % 60:02d}:00Z",
                    "userPrincipalName": f"user{i % 7}@contoso.com",
                    "status": {"errorCode": 0},
                },
            }
            for i in range(n, min(n + 50, first + count))
        ]
        bodies.append(orjson.dumps({"records": records}))
    return bodies


def hour_counts(data_dir: Path) -> tuple[dict[int, int], dict[int, int]]:
    """Rows per hour in signin_logs, and attempts per hour in signin_summary."""
    with connect_read_only(data_dir) as con:
        rows = con.execute("SELECT hour(event_time), count(*) FROM signin_logs GROUP BY 1")
        tables = dict(rows.fetchall())
        attempts = con.execute(
            "SELECT hour(hour), sum(attempts) FROM signin_summary GROUP BY 1"
        ).fetchall()
    return tables, {hour: int(total) for hour, total in attempts}


@pytest.fixture
def environment(
    local_stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, str]:
    """The local stack's settings in the environment; the hub's connection string and namespace."""
    emulator = local_stack(hubs=[HUB], partitions=1)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return str(emulator.connection_string(HUB)), f"127.0.0.1:{emulator.port}"


def test_a_run_killed_after_its_drain_checkpointed_is_built_by_later_runs(
    environment: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub, namespace = environment
    send_bodies(hub, signins(7, 2000))
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_DRAIN], env=os.environ.copy(), timeout=300
    )
    assert killed.returncode == -signal.SIGKILL
    settings = load_settings()
    assert checkpoint_of(settings, namespace, "0") is not None, "the drain checkpointed"
    assert lake_plan(settings.data_dir).table_hours == ("2026-11-20-07",), (
        "the lake says: build hour 7"
    )

    old, fresh = killed_writers_files(tmp_path)
    send_bodies(hub, signins(9, 100))
    assert main(["run"]) == 0
    assert not old.exists(), "a killed writer's temporary file is removed after an hour"
    assert fresh.exists(), "one younger than an hour may belong to a live writer: kept"
    send_bodies(hub, signins(10, 100))
    assert main(["run"]) == 0
    assert "builds waiting: 0 table hours, 0 summary partitions" in _status(capsys)

    tables, attempts = hour_counts(tmp_path)
    assert tables == {7: 2000, 9: 100, 10: 100}
    assert attempts == tables, "the summaries hold every hour too"


def killed_writers_files(data_dir: Path) -> tuple[Path, Path]:
    """Temporary files as killed drains leave them in a raw hour: one two hours old, one new."""
    hour_dir = Path(raw_hour_dir(data_dir, "SignInLogs", _hour(7)))
    old = hour_dir / ".adlogs-0-1-9.parquet.4242.0123456789ab.tmp"
    fresh = hour_dir / ".adlogs-0-1-9.parquet.4243.0123456789ab.tmp"
    for path in (old, fresh):
        path.write_bytes(b"PAR1 half a file")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    return old, fresh


def _status(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["status"]) == 0
    return capsys.readouterr().out


def test_a_failed_build_is_built_by_the_next_run_and_nothing_unchanged_is_rebuilt(
    environment: tuple[str, str], tmp_path: Path
) -> None:
    send_bodies(environment[0], signins(7, 300))
    settings = load_settings()
    with open_instance(settings.data_dir) as instance:
        assert all(run.success for run in drain_all(instance, settings))
        (raw,) = raw_hour_dir(tmp_path, "SignInLogs", _hour(7)).glob("*.parquet")
        good = raw.read_bytes()
        raw.write_bytes(good[: len(good) // 2])  # unreadable (a torn copy, a bad disk)

        failed = build_pending(instance, settings.data_dir)
        assert failed and not failed[0].success
        assert failed[0].error and raw.name in failed[0].error, failed[0].error
        assert lake_plan(settings.data_dir).table_hours == ("2026-11-20-07",), "still waits"

        raw.write_bytes(good)  # the file is replaced
        builds = build_pending(instance, settings.data_dir)
        assert builds and all(run.success for run in builds), [run.error for run in builds]
        assert build_pending(instance, settings.data_dir) == [], (
            "nothing changed: nothing is rebuilt"
        )
        runs = len(instance.get_runs())
        assert build_pending(instance, settings.data_dir) == []
        assert len(instance.get_runs()) == runs
    assert hour_counts(tmp_path) == ({7: 300}, {7: 300})


def test_a_late_record_rebuilds_the_summaries_that_read_its_hour_each_after_what_it_reads(
    environment: tuple[str, str], tmp_path: Path
) -> None:
    settings = load_settings()
    write_raw(tmp_path, signins(7, 50), _hour(7))
    write_raw(tmp_path, signins(9, 50), _hour(9))
    with open_instance(settings.data_dir) as instance:
        assert all(run.success for run in build_pending(instance, settings.data_dir))
        write_raw(tmp_path, signins(7, 10, first=50), _hour(9))  # late, into hour 7
        builds = build_pending(instance, settings.data_dir)
    assert builds and all(run.success for run in builds), [run.error for run in builds]
    # Hour 9's signin_detections reads hour 7, and session_detections reads it: built after it.
    order = [(run.kind, run.partition_key, sorted(run.summary_rows)) for run in builds]
    summary_runs = [(key, names) for kind, key, names in order if kind == "summaries"]
    assert [key for key, _ in summary_runs].count("2026-11-20-09:00") >= 2, order
    names = [name for _, run_names in summary_runs for name in run_names]
    assert names.index("signin_detections") < names.index("session_detections"), order
    assert lake_plan(settings.data_dir).waiting == 0, "nothing left for the next run"


def _hour(hour: int) -> datetime:
    return datetime(2026, 11, 20, hour, tzinfo=UTC)
