"""kill -9 the drain at random moments, many times: nothing lost, no checkpoint ahead of the data."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from azlogs_pipeline.config import load_settings
from azlogs_pipeline.ingest.drain import drain_partition
from azlogs_pipeline.ingest.records import record_id
from azlogs_pipeline.lake.paths import lake_root, raw_root
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.settings import local_environment
from azlogs_pipeline_tests.ingest.test_drain import checkpoint_of

HUB = "adlogs"
DRAIN = (
    "import sys; from azlogs_pipeline.config import load_settings; "
    "from azlogs_pipeline.ingest.drain import drain_partition; "
    "drain_partition(load_settings(), 'adlogs', '0')"
)


def drain_killed_mid_way(
    env: dict[str, str], landed: Callable[[], int], rng: random.Random, max_pause: float
) -> bool:
    """Run `DRAIN` in its own process under `env` and SIGKILL it at a random moment (up to
    `max_pause` s) once it is under way (`landed()` grew: its first file landed), so the kill
    lands mid-drain however fast or loaded the machine is. True when it was killed (False: it
    finished first); the process has ended either way."""
    before = landed()
    process = subprocess.Popen(
        [sys.executable, "-c", DRAIN],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if landed() > before:
            break
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, max_pause))
    killed = process.poll() is None
    if killed:
        process.kill()
    process.wait()
    return killed


def records_for(event: int) -> list[dict[str, Any]]:
    return [
        {
            "category": "NonInteractiveUserSignInLogs",
            "time": "2026-11-20T11:00:00Z",
            "properties": {
                "id": f"e{event}-r{i}",
                "createdDateTime": f"2026-11-20T{event % 24:02d}:{i % 60:02d}:00Z",
                "userAgent": "x" * 300,
            },
        }
        for i in range(20)
    ]


def landed_sequence_numbers(data_dir: Path) -> set[int]:
    # Final names only (temporary files are hidden); read while a drain may be adding files.
    files = [str(p) for p in raw_root(data_dir).rglob("*.parquet") if not p.name.startswith(".")]
    if not files:
        return set()
    table = ds.dataset(files, format="parquet").to_table(columns=["sequence_number"])
    return set(table.column("sequence_number").to_pylist())


def test_random_kills_lose_nothing_and_never_checkpoint_ahead(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    all_records: list[list[dict[str, Any]]] = []

    def publish(count: int) -> None:
        batch = [records_for(len(all_records) + e) for e in range(count)]
        all_records.extend(batch)
        send_bodies(emulator.connection_string(HUB), [orjson.dumps({"records": rs}) for rs in batch], partition_id="0")  # fmt: skip

    publish(1500)
    env = local_environment(emulator, azurite_endpoint, tmp_path, AZLOGS_FLUSH_RECORDS="1500")
    settings = load_settings(env)
    namespace = f"127.0.0.1:{emulator.port}"
    rng = random.Random(20261125)
    kills = 0
    checkpoints = []
    for _ in range(12):
        if kills >= 6:
            break
        if drain_killed_mid_way(env, lambda: len(landed_sequence_numbers(tmp_path)), rng, 0.4):
            kills += 1
        else:
            publish(300)  # it caught up: give the next drain a backlog to be killed in
        checkpoint = checkpoint_of(settings, namespace, "0")
        if checkpoint is not None:
            done = checkpoint["sequence_number"]
            checkpoints.append(done)
            missing = set(range(done + 1)) - landed_sequence_numbers(tmp_path)
            assert not missing, (
                f"checkpoint at {done} is ahead of durable data: {sorted(missing)[:5]}"
            )
        # No waiting for the killed drainer's claim to expire: its process is gone, so the
        # next drain takes the partition over at once.

    final = drain_partition(settings, HUB, "0")
    print(
        f"kills: {kills}, checkpoints after each: {checkpoints}, final drain: {final.events} events"
    )

    assert kills >= 6, "the drain should have been killed mid-way at least six times"
    assert checkpoints == sorted(checkpoints), "a checkpoint never moves backwards"
    assert final.lag_after == 0
    ids = (
        ds.dataset(raw_root(tmp_path), format="parquet", partitioning="hive")
        .to_table(columns=["record_id"])
        .column("record_id")
        .to_pylist()
    )
    assert set(ids) == {record_id(r) for rs in all_records for r in rs}
    for path in lake_root(tmp_path).rglob("*.parquet"):
        pq.read_metadata(path)  # no partial file under a final name
