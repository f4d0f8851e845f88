"""A build keeps to AZLOGS_BUILD_MEMORY_MB: under a small budget it spills to the data dir's
scratch directory and writes the same rows as under a large one."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from azlogs_pipeline.config import ConfigError, load_build_memory_mb
from azlogs_pipeline.lake.paths import scratch_dir, table_hour_file
from azlogs_pipeline.lake.sessions import sweep_spill_dirs
from azlogs_pipeline.normalize import build_hour
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw
from azlogs_pipeline_tests.normalize.test_signin_logs import interactive

HOUR = datetime(2025, 3, 1, 10, tzinfo=UTC)
RECORDS = 30_000
FILE_RECORDS = 2_000


def _land(data_dir: Path) -> None:
    records = []
    for n in range(RECORDS):
        record = interactive(f"s{n % (RECORDS - 500)}")  # some sign-ins sent twice: dedupe
        record["properties"]["createdDateTime"] = (HOUR + timedelta(seconds=n % 3600)).isoformat()  # type: ignore[index]
        records.append(record)
    for first in range(0, RECORDS, FILE_RECORDS):  # drains flush files of bounded size
        write_raw(data_dir, records[first : first + FILE_RECORDS], HOUR + timedelta(minutes=5))


def _build_watching_spills(data_dir: Path, budget_mb: int) -> tuple[int, list[str]]:
    """Build signin_logs of the hour under `budget_mb`; (rows, spill directories seen). DuckDB
    creates its spill directory on the first spill and removes it when the build's connection
    closes."""
    stop, seen = threading.Event(), set()

    def watch() -> None:
        while not stop.is_set():
            seen.update(str(p) for p in scratch_dir(data_dir).glob("duckdb-*"))
            stop.wait(0.002)

    watcher = threading.Thread(target=watch)
    os.environ["AZLOGS_BUILD_MEMORY_MB"] = str(budget_mb)
    watcher.start()
    try:
        rows = build_hour(data_dir, HOUR, ["signin_logs"])["signin_logs"].rows
    finally:
        stop.set()
        watcher.join()
    return rows, sorted(seen)


@pytest.mark.slow  # a large hour, built twice under two memory budgets
def test_a_small_budget_spills_and_builds_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    _land(small)
    shutil.copytree(small, large)
    monkeypatch.setenv("AZLOGS_BUILD_MEMORY_MB", "1024")  # restored after the test

    rows, spilled = _build_watching_spills(small, 128)
    assert spilled, "a 128 MB budget makes this hour spill to <data dir>/scratch"
    assert not list(scratch_dir(small).glob("duckdb-*")), "the spill directory is removed after"
    assert _build_watching_spills(large, 4096) == (rows, []), "4 GB: no spill, the same count"
    assert rows == RECORDS - 500
    built = [pq.read_table(table_hour_file(d, "signin_logs", HOUR)) for d in (small, large)]
    assert built[0].equals(built[1])


def test_the_budget_setting_is_checked() -> None:
    assert load_build_memory_mb({}) == 1024
    assert load_build_memory_mb({"AZLOGS_BUILD_MEMORY_MB": "2048"}) == 2048
    for bad in ("0", "32", "1.5", "lots"):
        with pytest.raises(ConfigError, match="AZLOGS_BUILD_MEMORY_MB"):
            load_build_memory_mb({"AZLOGS_BUILD_MEMORY_MB": bad})


def test_spill_directories_of_dead_builds_are_swept(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    host = socket.gethostname()
    dead = tmp_path / f"duckdb-{gone.stdout.strip()}-0123456789ab-{host}"
    live = tmp_path / f"duckdb-{os.getpid()}-0123456789ab-{host}"
    elsewhere = tmp_path / f"duckdb-{gone.stdout.strip()}-0123456789ab-other-host.example"
    for directory in (dead, live, elsewhere):
        directory.mkdir()
        (directory / "duckdb_temp_storage-0.tmp").write_bytes(b"x")
    assert sweep_spill_dirs(tmp_path) == 1
    assert not dead.exists() and live.exists(), "a live build's spill directory stays"
    assert elsewhere.exists(), "a pid of another host (a shared volume) says nothing here"
