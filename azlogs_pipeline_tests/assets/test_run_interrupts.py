"""`azlogs run` stopped by SIGTERM (as `timeout`, systemd and Kubernetes do) or Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
import psutil

from azlogs_pipeline.instance import open_instance
from azlogs_pipeline.lake.paths import raw_root, tables_root
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.settings import local_environment

HUB = "adlogs"
RECORDS_PER_EVENT = 10


def body(partition: int, n: int, hours: int) -> bytes:
    records = [
        {
            "category": "AuditLogs",
            "time": f"2026-11-{20 + (n % hours) // 24:02d}T{(n % hours) % 24:02d}:10:00Z",
            "properties": {"id": f"a-{partition}-{n}-{i}"},
        }
        for i in range(RECORDS_PER_EVENT)
    ]
    return orjson.dumps({"records": records})


def publish(emulator: Any, partitions: int, events: int, hours: int) -> int:
    for partition in range(partitions):
        bodies = [body(partition, n, hours) for n in range(events)]
        send_bodies(emulator.connection_string(HUB), bodies, partition_id=str(partition))
    return partitions * events * RECORDS_PER_EVENT


def start_run(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "azlogs_pipeline.cli", "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        env={**os.environ, **env},
    )  # fmt: skip


def wait_for(condition: Any, what: str, process: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"azlogs run ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout:.0f} s"
        time.sleep(0.05)


def stop(process: subprocess.Popen[str], signum: int) -> tuple[int, float, str, str]:
    """Send the signal; return the exit code, the seconds it took, stdout and stderr."""
    sent = time.monotonic()
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    return process.returncode, time.monotonic() - sent, out, err


def raw_batches(data_dir: Path) -> Iterator[Path]:
    """The raw lake's batch files (not its `_schema.parquet` seed, which every run writes first)."""
    return raw_root(data_dir).glob("category=*/date=*/hour=*/*.parquet")


def run_to_end(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", "run"],
        capture_output=True, text=True, timeout=600, cwd=cwd, env={**os.environ, **env},
    )  # fmt: skip


def test_sigterm_during_drains_stops_safely_and_the_next_run_finishes(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=2)
    published = publish(emulator, partitions=2, events=4000, hours=2)
    data_dir = tmp_path / "data"
    env = local_environment(emulator, azurite_endpoint, data_dir, AZLOGS_FLUSH_RECORDS="2000")
    env["AZLOGS_DRAIN_PARALLELISM"] = "2"

    process = start_run(env, tmp_path)
    wait_for(lambda: any(raw_batches(data_dir)), "first flush", process, 180)
    code, seconds, out, err = stop(process, signal.SIGTERM)

    assert code == 143, err
    assert seconds < 10, f"took {seconds:.1f} s to stop"
    assert "interrupted (SIGTERM): " in err and "run `azlogs run` again" in err
    assert " of 2 partitions drained" in err
    assert "interrupted" in out, "the drains table says which drains were stopped"
    assert not any(data_dir.rglob("*.tmp")), "no half-written file is left"

    again = run_to_end(env, tmp_path)
    assert again.returncode == 0, again.stderr
    with connect_read_only(data_dir) as con:
        rows, ids, events = con.execute(
            "SELECT count(*), count(DISTINCT record_id), "
            "count(DISTINCT (partition_id, sequence_number)) FROM raw_records"
        ).fetchone() or (0, 0, 0)
        (audit,) = con.execute("SELECT count(*) FROM audit_logs").fetchone() or (0,)
    assert rows == ids == published, "every record landed once: nothing lost, nothing doubled"
    assert events == published // RECORDS_PER_EVENT
    assert audit == published


def test_a_second_ctrl_c_exits_at_once_and_kills_the_workers(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=2)
    publish(emulator, partitions=2, events=4000, hours=1)
    data_dir = tmp_path / "data"
    env = local_environment(emulator, azurite_endpoint, data_dir, AZLOGS_FLUSH_RECORDS="2000")

    process = start_run(env, tmp_path)
    wait_for(lambda: any(raw_batches(data_dir)), "first flush", process, 180)
    workers = psutil.Process(process.pid).children()
    assert workers, "the drains run in worker processes"
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    code, seconds, _out, _err = stop(process, signal.SIGINT)

    assert code == 130
    assert seconds < 3, f"took {seconds:.1f} s to exit"
    assert not [worker for worker in workers if alive(worker)], "the workers were killed"


def built_hours(data_dir: Path) -> list[Path]:
    """The hour files of the tables (not the schema seeds that the first drain writes)."""
    return [p for p in tables_root(data_dir).rglob("*.parquet") if not p.name.startswith("_")]


def alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_sigterm_during_builds_exits_at_once_and_the_next_run_builds_the_rest(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    published = publish(emulator, partitions=1, events=960, hours=48)
    data_dir = tmp_path / "data"
    env = local_environment(emulator, azurite_endpoint, data_dir)

    process = start_run(env, tmp_path)
    wait_for(lambda: any(built_hours(data_dir)), "a built hour", process, 300)
    code, seconds, _out, err = stop(process, signal.SIGTERM)

    assert code == 143, err
    assert seconds < 10, f"took {seconds:.1f} s to stop"
    assert "interrupted (SIGTERM): 1 of 1 partitions drained, " in err
    assert "hours left to build" in err
    leftovers = list(data_dir.rglob("*.tmp"))
    assert not leftovers, f"half-written files are left: {leftovers}"
    with open_instance(data_dir) as instance:
        started = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        assert not started, "the interrupted build's run is over, its hours free for the next"
    assert len(built_hours(data_dir)) < 48, "the signal came before the builds were done"

    again = run_to_end(env, tmp_path)
    assert again.returncode == 0, again.stderr
    with connect_read_only(data_dir) as con:
        audit, hours = con.execute(
            "SELECT count(*), count(DISTINCT date_trunc('hour', event_time)) FROM audit_logs"
        ).fetchone() or (0, 0)
    assert (audit, hours) == (published, 48), "every hour of the lake is built, once"


def finishing_worker(process: subprocess.Popen[str]) -> bool:
    """True once `azlogs run` has started its reports-and-alerts worker."""
    try:
        children = psutil.Process(process.pid).children()
    except psutil.NoSuchProcess:
        return False
    for child in children:
        with contextlib.suppress(psutil.Error):
            if "finish" in child.cmdline():
                return True
    return False


def test_sigterm_during_the_reports_exits_143_and_the_next_run_writes_them(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    publish(emulator, partitions=1, events=40, hours=2)
    data_dir = tmp_path / "data"
    env = local_environment(emulator, azurite_endpoint, data_dir)

    process = start_run(env, tmp_path)
    wait_for(lambda: finishing_worker(process), "report worker", process, 300)
    code, seconds, _out, err = stop(process, signal.SIGTERM)

    assert code == 143, err
    assert seconds < 10, f"took {seconds:.1f} s to stop"
    assert "interrupted (SIGTERM): 1 of 1 partitions drained, 0 hours left to build" in err
    assert not list(data_dir.rglob("*.tmp")), "no half-written file is left"

    again = run_to_end(env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "security report 2026-11-20: " in again.stdout, again.stdout
