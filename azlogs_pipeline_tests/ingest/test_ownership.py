"""Ownership claims name their process: dead owners are taken over at once, live ones never,
other hosts' claims keep their TTL. Real BlobCheckpointStore on Azurite, real processes."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from azlogs_pipeline.config import Secret, StorageSettings
from azlogs_pipeline.ingest.clients import ensure_container, make_checkpoint_store
from azlogs_pipeline.ingest.ownership import Owner, OwnershipLost, PartitionClaim
from azlogs_pipeline.ingest.process import ProcessIdentity, current_process
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint

NAMESPACE, HUB, GROUP = "ns.example:5672", "adlogs", "$Default"


@pytest.fixture
def store(azurite_endpoint: AzuriteEndpoint) -> Iterator[Any]:
    settings = StorageSettings(
        container=azurite_endpoint.new_container(),
        connection_string=Secret(azurite_endpoint.connection_string),
    )
    ensure_container(settings)
    checkpoint_store = make_checkpoint_store(settings)
    yield checkpoint_store
    checkpoint_store.close()


def claim(store: Any, ttl: float = 120.0) -> PartitionClaim:
    return PartitionClaim(store, NAMESPACE, HUB, GROUP, "0", ttl_seconds=ttl, run_id="run-42")


def write_owner(store: Any, owner_id: str) -> None:
    """Write a claim as another drainer would (through the same standard store)."""
    current = [i for i in store.list_ownership(NAMESPACE, HUB, GROUP) if i["partition_id"] == "0"]
    base = dict(current[0]) if current else {}
    request = {
        **base,
        "fully_qualified_namespace": NAMESPACE,
        "eventhub_name": HUB,
        "consumer_group": GROUP,
        "partition_id": "0",
        "owner_id": owner_id,
    }
    assert list(store.claim_ownership([request])), "the test's own claim must succeed"


def holder_of(store: Any) -> str:
    (item,) = [i for i in store.list_ownership(NAMESPACE, HUB, GROUP) if i["partition_id"] == "0"]
    return str(item["owner_id"])


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


def identity_of(process: subprocess.Popen[bytes]) -> ProcessIdentity:
    import psutil

    return dataclasses.replace(
        current_process(), pid=process.pid, started=psutil.Process(process.pid).create_time()
    )


def test_the_claim_names_host_pid_start_time_and_run(store: Any) -> None:
    mine = claim(store)
    mine.acquire()
    owner = Owner.parse(holder_of(store))
    assert owner is not None and owner.process == current_process()
    assert owner.run_id == "run-42"
    assert owner.process.alive() is True
    assert Owner.parse("f3a9c2d1-7f00-4e8e-8c36-1c2b3a4d5e6f") is None


def test_a_dead_owner_on_this_host_is_taken_over_at_once(
    store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    dead = identity_of(process)
    process.wait()
    write_owner(store, Owner(dead, time.time(), "run-dead").encode())

    mine = claim(store)
    with caplog.at_level(logging.WARNING):
        mine.acquire()

    assert holder_of(store) == mine.owner_id
    assert f"pid {dead.pid}" in caplog.text and "whose process is gone" in caplog.text


def test_a_reused_pid_is_recognized_as_a_dead_owner(
    store: Any, sleeper: subprocess.Popen[bytes]
) -> None:
    # The pid is alive, but it is an unrelated process started long after the owner.
    reused = dataclasses.replace(identity_of(sleeper), started=time.time() - 3600)
    write_owner(store, Owner(reused, time.time(), None).encode())

    mine = claim(store)
    mine.acquire()
    assert holder_of(store) == mine.owner_id


def test_a_live_owner_is_never_taken_even_when_its_claim_is_old(
    store: Any, sleeper: subprocess.Popen[bytes]
) -> None:
    live = Owner(identity_of(sleeper), time.time(), "run-live")
    write_owner(store, live.encode())
    time.sleep(1.5)

    with pytest.raises(OwnershipLost) as lost:
        claim(store, ttl=1.0).acquire()

    assert f"pid {sleeper.pid}" in lost.value.holder and "still running" in lost.value.holder
    assert not lost.value.foreign
    assert holder_of(store) == live.encode()


def test_another_hosts_claim_keeps_its_ttl_then_is_taken(store: Any) -> None:
    remote = dataclasses.replace(current_process(), host="h1", pid=4242)
    write_owner(store, Owner(remote, time.time(), None).encode())

    with pytest.raises(OwnershipLost) as lost:
        claim(store, ttl=3.0).acquire()
    assert "held by azlogs on host h1 pid 4242 since" in lost.value.holder
    assert (
        "claim expires in" in lost.value.holder and "another drain is running" in lost.value.holder
    )

    time.sleep(3.5)
    mine = claim(store, ttl=3.0)
    mine.acquire()
    assert holder_of(store) == mine.owner_id


def test_another_consumers_claim_is_explained_as_a_misconfiguration(store: Any) -> None:
    write_owner(store, "f3a9c2d1-7f00-4e8e-8c36-1c2b3a4d5e6f")

    with pytest.raises(OwnershipLost) as lost:
        claim(store).acquire()

    assert lost.value.foreign
    assert "another consumer of consumer group '$Default'" in lost.value.holder
    assert "AZLOGS_CONSUMER_GROUP" in lost.value.holder
