"""`drain_all` drains the partitions in parallel worker processes, with the same result as serially."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import orjson
import pyarrow.parquet as pq
import pytest
from azure.storage.blob import ContainerClient

from azlogs_pipeline.config import load_settings
from azlogs_pipeline.instance import open_instance
from azlogs_pipeline.lake.paths import lake_root
from azlogs_pipeline.runner import drain_all, drain_one, register_eventhub_partitions
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.settings import local_environment

HUB = "adlogs"
PARTITIONS = 4
PER_PARTITION = 120


def body(partition: int, n: int) -> bytes:
    records = [
        {
            "category": "SignInLogs",
            "time": f"2026-11-20T{8 + n % 3:02d}:10:00Z",
            "properties": {"id": f"s-{partition}-{n}-{i}", "createdDateTime": "2026-11-20T08:00Z"},
        }
        for i in range(2)
    ]
    return orjson.dumps({"records": records}) if n % 40 else b"{not json"


def lake_files(data_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every Parquet file of the lake by relative path, its rows without the landing time."""
    found = {}
    for path in sorted(lake_root(data_dir).rglob("*.parquet")):
        table = pq.read_table(path)
        if "ingested_at" in table.column_names:
            table = table.drop_columns(["ingested_at"])
        found[str(path.relative_to(data_dir))] = table.to_pylist()
    return found


def checkpoints(azurite: AzuriteEndpoint, container: str) -> dict[str, tuple[str, int]]:
    """Per partition: the offset and sequence number of its standard checkpoint blob."""
    with ContainerClient.from_connection_string(azurite.connection_string, container) as client:
        return {
            blob.name.rsplit("/", 1)[-1]: (
                blob.metadata["offset"],
                int(blob.metadata["sequencenumber"]),
            )
            for blob in client.list_blobs(include=["metadata"])
            if "/checkpoint/" in blob.name
        }


def drain_with(
    parallelism: int, root: Path, emulator: Any, azurite: AzuriteEndpoint, mp: pytest.MonkeyPatch
) -> tuple[Path, str, list[Any]]:
    data_dir = root / f"data-{parallelism}"
    env = local_environment(emulator, azurite, data_dir, AZLOGS_FLUSH_RECORDS="50")
    for key, value in env.items():
        mp.setenv(key, value)
    mp.delenv("DAGSTER_HOME", raising=False)
    settings = load_settings()
    with open_instance(data_dir) as instance:
        if parallelism == 1:  # one at a time, in this process, as `azlogs run` used to
            keys = register_eventhub_partitions(instance, settings)
            runs = [drain_one(instance, settings, key) for key in keys]
        else:
            runs = drain_all(instance, settings, parallelism=parallelism)
        spans = []
        for run in runs:
            record = instance.get_run_record_by_id(run.run_id)
            assert record is not None and record.start_time and record.end_time
            spans.append((record.start_time, record.end_time))
    return data_dir, env["AZLOGS_STORAGE_CONTAINER"], [runs, spans]


def test_four_partitions_in_parallel_land_what_one_at_a_time_lands(
    eventhubs_emulator_factory: Any,
    azurite_endpoint: AzuriteEndpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=PARTITIONS)
    for partition in range(PARTITIONS):
        bodies = [body(partition, n) for n in range(PER_PARTITION)]
        send_bodies(emulator.connection_string(HUB), bodies, partition_id=str(partition))

    serial_dir, serial_container, (serial_runs, _) = drain_with(
        1, tmp_path, emulator, azurite_endpoint, monkeypatch
    )
    parallel_dir, parallel_container, (parallel_runs, parallel_spans) = drain_with(
        PARTITIONS, tmp_path, emulator, azurite_endpoint, monkeypatch
    )

    for runs in (serial_runs, parallel_runs):
        assert [run.partition_key for run in runs] == [f"{HUB}:{p}" for p in range(PARTITIONS)]
        assert all(run.success for run in runs), [run.error for run in runs]
        assert sum(int(str(run.metadata["events"])) for run in runs) == PARTITIONS * PER_PARTITION
    assert max(start for start, _ in parallel_spans) < min(end for _, end in parallel_spans), (
        "in parallel: all four drains were running at the same moment"
    )
    serial_files, parallel_files = lake_files(serial_dir), lake_files(parallel_dir)
    assert len([f for f in serial_files if "/raw/" in f]) >= PARTITIONS * 4, "several flushes each"
    assert any("deadletter" in f for f in serial_files)
    assert parallel_files == serial_files
    serial_checkpoints = checkpoints(azurite_endpoint, serial_container)
    assert sorted(serial_checkpoints) == [str(p) for p in range(PARTITIONS)]
    assert {seq for _, seq in serial_checkpoints.values()} == {PER_PARTITION - 1}
    assert checkpoints(azurite_endpoint, parallel_container) == serial_checkpoints
    with open_instance(parallel_dir) as instance:
        assert len(instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]))) == 4
