"""The Event Hub lost mid-receive (the emulator process killed, as a crash or a network cut would):
the drain fails in bounded time naming the hub and partition, its checkpoint never passes what is
in the lake, and the next drain resumes and lands everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from azlogs_pipeline.ingest.drain import drain_partition
from azlogs_pipeline.ingest.errors import DrainError
from azlogs_pipeline.ingest.records import record_id
from azlogs_pipeline.lake.paths import raw_root
from azlogs_pipeline.local.processes import free_port, spawn, wait_for_port
from azlogs_pipeline.local.stack import eventhubs_connection_string
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.ingest.test_drain import HUB, bodies_of, checkpoint_of, lake_ids, signin

RETRY_TIMEOUT = 3.0


def _start_emulator(port: int, directory: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "azlogs_pipeline.local.eventhubs", "--port", str(port)]
    command += ["--partitions", "1", "--hub", HUB, "--dir", str(directory / "eventhubs")]
    log = directory / "eventhubs.log"
    process = spawn(command, log)
    wait_for_port("127.0.0.1", port, process, "Event Hubs emulator", log, 30.0)
    return process


def _landed_sequence_numbers(data_dir: Path) -> set[int]:
    table = ds.dataset(raw_root(data_dir), format="parquet", partitioning="hive").to_table(
        columns=["sequence_number"]
    )
    return set(table.column("sequence_number").to_pylist())


@pytest.mark.parametrize("how", ["kill", "freeze"])
def test_a_lost_event_hub_fails_the_drain_in_bounded_time_and_the_next_run_resumes(
    how: str, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    from azlogs_pipeline.config import load_settings

    port = free_port()
    emulator = _start_emulator(port, tmp_path)
    connection = eventhubs_connection_string(port)
    records = [signin(n, n % 60) for n in range(6_000)]
    send_bodies(f"{connection};EntityPath={HUB}", bodies_of(records, 2), partition_id="0")
    settings = load_settings(
        {
            "AZLOGS_EVENTHUB_CONNECTION_STRING": connection,
            "AZLOGS_EVENTHUB_NAME": HUB,
            "AZLOGS_STORAGE_CONNECTION_STRING": azurite_endpoint.connection_string,
            "AZLOGS_STORAGE_CONTAINER": azurite_endpoint.new_container(),
            "AZLOGS_DATA_DIR": str(tmp_path / "data"),
            "AZLOGS_FLUSH_RECORDS": "100",
            "AZLOGS_EVENTHUB_RETRY_TIMEOUT": str(RETRY_TIMEOUT),
        }
    )
    outcome: dict[str, Any] = {}

    def drain() -> None:
        try:
            outcome["result"] = drain_partition(settings, HUB, "0")
        except Exception as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=drain, daemon=True)
    try:
        worker.start()
        while not raw_root(settings.data_dir).exists() or not any(
            raw_root(settings.data_dir).rglob("*.parquet")
        ):
            assert worker.is_alive(), outcome
            time.sleep(0.005)
        # "freeze" leaves the socket open and silent (a network cut); "kill" resets it.
        os.kill(emulator.pid, signal.SIGSTOP if how == "freeze" else signal.SIGKILL)
        lost_at = time.monotonic()
        worker.join(timeout=90)
        waited = time.monotonic() - lost_at
    finally:
        os.kill(emulator.pid, signal.SIGKILL)
        emulator.wait(timeout=10)

    assert not worker.is_alive(), "the drain must give up in bounded time"
    assert waited < 30, waited
    error = outcome.get("error")
    assert isinstance(error, DrainError), outcome
    assert "adlogs partition 0" in str(error) and "AZLOGS_EVENTHUB_RETRY_TIMEOUT" in str(error)
    checkpoint = checkpoint_of(settings, f"127.0.0.1:{port}", "0")
    assert checkpoint is not None
    landed = _landed_sequence_numbers(settings.data_dir)
    assert set(range(checkpoint["sequence_number"] + 1)) <= landed, "checkpoint past the lake"
    assert len(lake_ids(settings.data_dir)) < len(records), "the loss came mid-receive"

    emulator = _start_emulator(port, tmp_path)
    try:
        again = drain_partition(settings, HUB, "0")
    finally:
        os.kill(emulator.pid, signal.SIGKILL)
        emulator.wait(timeout=10)
    assert again.first_sequence_number == checkpoint["sequence_number"] + 1
    assert again.lag_after == 0
    assert set(lake_ids(settings.data_dir)) == {record_id(r) for r in records}
