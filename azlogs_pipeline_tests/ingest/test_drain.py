"""Draining partitions with the real SDK against the emulator and Azurite: nothing lost or doubled."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow.dataset as ds
import pytest
from azure.eventhub.extensions.checkpointstoreblob import BlobCheckpointStore

from azlogs_pipeline.config import Settings, load_settings
from azlogs_pipeline.ingest.drain import drain_partition
from azlogs_pipeline.ingest.errors import DrainError
from azlogs_pipeline.ingest.records import record_id
from azlogs_pipeline.lake.paths import deadletter_root, raw_root
from azlogs_pipeline.local.eventhubs import EventHubsEmulator
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import consume_with_blob_checkpoints, send_bodies
from azlogs_pipeline_tests.fixtures.settings import local_environment, local_settings

HUB = "adlogs"


def signin(n: int, minute: int = 0) -> dict[str, Any]:
    return {
        "time": f"2026-11-20T10:{minute:02d}:00Z",
        "category": "SignInLogs",
        "tenantId": "t-1",
        "operationName": "Sign-in activity",
        "properties": {"id": f"s-{n}", "createdDateTime": f"2026-11-20T09:{minute:02d}:30Z"},
    }


def bodies_of(records: list[dict[str, Any]], per_body: int) -> list[bytes]:
    return [
        orjson.dumps({"records": records[i : i + per_body]})
        for i in range(0, len(records), per_body)
    ]


def lake_ids(data_dir: Path) -> list[str]:
    root = raw_root(data_dir)
    if not root.exists():
        return []
    table = ds.dataset(root, format="parquet", partitioning="hive").to_table(columns=["record_id"])
    return table.column("record_id").to_pylist()


def checkpoint_of(settings: Settings, namespace: str, partition: str) -> dict[str, Any] | None:
    store = BlobCheckpointStore.from_connection_string(
        settings.storage.connection_string.get(), settings.storage.container
    )
    for item in store.list_checkpoints(namespace, HUB, "$Default"):
        if item["partition_id"] == partition:
            return item
    return None


def test_drain_lands_every_record_once_and_checkpoints(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=2)
    records = [signin(n, n % 60) for n in range(500)]
    send_bodies(emulator.connection_string(HUB), bodies_of(records[:300], 7), partition_id="0")
    send_bodies(emulator.connection_string(HUB), bodies_of(records[300:], 9), partition_id="1")
    settings = local_settings(emulator, azurite_endpoint, tmp_path, AZLOGS_FLUSH_RECORDS="50")

    first = [drain_partition(settings, HUB, pid) for pid in ("0", "1")]

    assert sorted(lake_ids(tmp_path)) == sorted(record_id(r) for r in records)
    assert [r.records for r in first] == [300, 200]
    assert all(r.status == "drained" and r.lag_after == 0 for r in first)
    assert first[0].files > 1, "flushes are bounded by AZLOGS_FLUSH_RECORDS"
    assert first[0].hours_touched == {"2026-11-20-09"}
    host = f"127.0.0.1:{emulator.port}"
    assert checkpoint_of(settings, host, "0")["sequence_number"] == first[0].last_sequence_number

    again = drain_partition(settings, HUB, "0")
    assert again.events == 0 and again.records == 0
    assert len(lake_ids(tmp_path)) == 500


def test_drain_caps_events_per_run_and_resumes(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    records = [signin(n) for n in range(100)]
    send_bodies(emulator.connection_string(HUB), bodies_of(records, 1), partition_id="0")
    settings = local_settings(emulator, azurite_endpoint, tmp_path, AZLOGS_DRAIN_MAX_EVENTS="30")

    runs = [drain_partition(settings, HUB, "0") for _ in range(4)]

    assert [r.events for r in runs] == [30, 30, 30, 10]
    assert [r.lag_after for r in runs] == [70, 40, 10, 0]
    assert sorted(lake_ids(tmp_path)) == sorted(record_id(r) for r in records)


def sdk_consume(settings: Settings, stop_after: int) -> list[int]:
    """What a plain SDK consumer with BlobCheckpointStore processes (the `n` of each record)."""
    assert settings.eventhub.connection_string and settings.storage.connection_string
    bodies = consume_with_blob_checkpoints(
        settings.eventhub.connection_string.get(),
        HUB,
        settings.storage.connection_string.get(),
        settings.storage.container,
        stop_after,
    )
    return [orjson.loads(body)["records"][0]["properties"]["n"] for body in bodies]


def test_checkpoints_interoperate_with_the_sdk_both_ways(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    records = [{**signin(n), "properties": {"n": n}} for n in range(90)]
    send_bodies(emulator.connection_string(HUB), bodies_of(records, 1), partition_id="0")
    settings = local_settings(emulator, azurite_endpoint, tmp_path, AZLOGS_DRAIN_MAX_EVENTS="30")

    by_sdk = sdk_consume(settings, stop_after=30)
    ours = drain_partition(settings, HUB, "0")
    by_sdk_again = sdk_consume(settings, stop_after=10**6)

    assert by_sdk == list(range(30))
    assert ours.events == 30 and ours.first_sequence_number == 30
    assert by_sdk_again == list(range(60, 90))
    landed = sorted(orjson.loads(r)["properties"]["n"] for r in raw_records(tmp_path))
    assert landed == list(range(30, 60))


def raw_records(data_dir: Path) -> list[str]:
    table = ds.dataset(raw_root(data_dir), format="parquet", partitioning="hive").to_table(
        columns=["record"]
    )
    return table.column("record").to_pylist()


def test_two_concurrent_drains_of_one_partition_exactly_one_lands(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    records = [signin(n) for n in range(2000)]
    send_bodies(emulator.connection_string(HUB), bodies_of(records, 2), partition_id="0")
    container = azurite_endpoint.new_container()
    dirs = [tmp_path / "a", tmp_path / "b"]
    results: list[Any] = [None, None]
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        settings = local_settings(emulator, azurite_endpoint, dirs[i], container)
        barrier.wait()
        results[i] = drain_partition(settings, HUB, "0")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    statuses = sorted(r.status for r in results)
    assert statuses == ["drained", "owned_elsewhere"]
    loser = dirs[[r.status for r in results].index("owned_elsewhere")]
    winner = dirs[[r.status for r in results].index("drained")]
    assert lake_ids(loser) == []
    assert sorted(lake_ids(winner)) == sorted(record_id(r) for r in records)


def test_retention_gap_is_counted_and_the_drain_goes_on(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator: EventHubsEmulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    send_bodies(
        emulator.connection_string(HUB),
        bodies_of([signin(n) for n in range(10)], 1),
        partition_id="0",
    )
    settings = local_settings(emulator, azurite_endpoint, tmp_path)
    assert drain_partition(settings, HUB, "0").events == 10

    later = [signin(n) for n in range(10, 60)]
    send_bodies(emulator.connection_string(HUB), bodies_of(later, 1), partition_id="0")
    dropped = emulator.apply_retention(HUB, "0", keep_last=20)
    result = drain_partition(settings, HUB, "0")

    assert dropped == 40
    assert result.lost_to_retention == 30
    assert result.events == 20
    assert result.first_sequence_number == 40


def test_malformed_events_are_dead_lettered_and_do_not_block(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    good = orjson.dumps({"records": [signin(1)]})
    corpus = [
        b"not json at all",
        good[:-7],
        b"\x00\xff\xfe garbage \x81",
        b"42",
        b'{"records": []}',
        orjson.dumps({"records": [{**signin(2), "category": "../../etc passwd"}]}),
        b"{'records': [{'category': 'AuditLogs', 'time': '2026-11-20T09:00:00Z'}]}",
        b'{"records": [{"category": "AuditLogs", "":"", "time": "2026-11-20T09:00:00Z"}]}',
        b'{"records": [{"category": "AuditLogs", "resultDescription": "line one\nline two"}]}',
        orjson.dumps({"records": [{**signin(3), "big": "x" * 990_000}]}),
        good,
    ]
    send_bodies(emulator.connection_string(HUB), corpus, partition_id="0")
    settings = local_settings(emulator, azurite_endpoint, tmp_path)

    result = drain_partition(settings, HUB, "0")

    assert result.events == len(corpus)
    assert result.dead_letters == 4
    assert result.records == 6
    assert result.repaired == 3
    assert result.invalid_category == 1
    assert result.lag_after == 0
    dead = ds.dataset(deadletter_root(tmp_path), format="parquet", partitioning="hive").to_table()
    assert sorted(dead.column("body").to_pylist()) == sorted(corpus[:4])
    assert all(p.resolve().is_relative_to(tmp_path.resolve()) for p in tmp_path.rglob("*"))


def test_missing_container_is_created_and_bad_keys_are_explained(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    send_bodies(emulator.connection_string(HUB), bodies_of([signin(1)], 1), partition_id="0")
    fresh = f"fresh-{tmp_path.name[-12:].lower().replace('_', '-')}".strip("-")
    settings = local_settings(emulator, azurite_endpoint, tmp_path, container=fresh)
    assert drain_partition(settings, HUB, "0").records == 1

    wrong_key = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
    env = local_environment(emulator, azurite_endpoint, tmp_path / "other", container=fresh)
    del env["AZLOGS_STORAGE_CONNECTION_STRING"]
    env |= {
        "AZLOGS_STORAGE_ACCOUNT_NAME": "devstoreaccount1",
        "AZLOGS_STORAGE_ACCOUNT_KEY": wrong_key,
        "AZLOGS_STORAGE_ACCOUNT_URL": f"http://127.0.0.1:{azurite_endpoint.port}/devstoreaccount1",
    }
    with pytest.raises(DrainError) as caught:
        drain_partition(load_settings(env), HUB, "0")
    message = str(caught.value)
    assert "AZLOGS_STORAGE_ACCOUNT_KEY" in message and "run the drain again" in message
    assert wrong_key not in message


def test_a_claim_taken_mid_drain_stops_the_drain_before_its_next_write(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    from azlogs_pipeline.ingest.clients import make_checkpoint_store

    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    records = [signin(n, n % 60) for n in range(20_000)]
    send_bodies(emulator.connection_string(HUB), bodies_of(records, 2), partition_id="0")
    settings = local_settings(emulator, azurite_endpoint, tmp_path, AZLOGS_FLUSH_RECORDS="200")
    namespace = f"127.0.0.1:{emulator.port}"
    store = make_checkpoint_store(settings.storage)
    stolen = threading.Event()

    def thief() -> None:
        while not stolen.is_set():
            if checkpoint_of(settings, namespace, "0") is not None:
                (current,) = list(store.list_ownership(namespace, HUB, "$Default"))
                taken = store.claim_ownership([{**current, "owner_id": "someone-else"}])
                if taken:
                    stolen.set()
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=thief, daemon=True)
    thread.start()
    result = drain_partition(settings, HUB, "0")
    thread.join(10)

    assert stolen.is_set() and result.status == "owned_elsewhere"
    assert result.events < 10_000
    landed = sorted(set(lake_ids(tmp_path)))
    checkpoint = checkpoint_of(settings, namespace, "0")
    assert checkpoint is not None
    # Everything up to the checkpoint is in the lake; at most the batch in flight when the claim
    # was taken was written after it (renewal happens before each write).
    assert (
        checkpoint["sequence_number"] + 1
        <= len(landed) // 2
        <= checkpoint["sequence_number"] + 1 + 200
    )
