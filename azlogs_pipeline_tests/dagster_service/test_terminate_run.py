"""A drain run that Dagster terminates (the UI's "Terminate") stops safely and frees its partition
for the next run at once: its claim is released, nothing is lost or doubled."""

from __future__ import annotations

import time
from typing import Any

import dagster as dg
import duckdb
import pytest
from azure.storage.blob import ContainerClient

from azlogs_pipeline.assets.ingest import EVENTHUB_PARTITIONS
from azlogs_pipeline.lake.paths import raw_root
from azlogs_pipeline_tests.assets.test_run_interrupts import publish
from azlogs_pipeline_tests.dagster_service.conftest import HUB, SeededService
from azlogs_pipeline_tests.dagster_service.graphql import (
    RUN_STATUS,
    RUNS,
    TERMINATE,
    launch_backfill,
)
from azlogs_pipeline_tests.dagster_service.service import DagsterService
from azlogs_pipeline_tests.dagster_service.test_ui_backfill import wait_until_done

KEY = f"{HUB}:0"


def launch_drain(service: DagsterService) -> str:
    """What the UI sends for "Materialize" of one partition of raw_events."""
    params = {
        "partitionNames": [KEY],
        "assetSelection": [{"path": ["raw_events"]}],
        "title": f"drain {KEY}",
        "runConfigData": {"execution": {"config": {"in_process": {}}}},
    }
    return launch_backfill(service, params)


def the_run(service: DagsterService, backfill_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = service.graphql(RUNS, {"id": backfill_id})["runsOrError"]["results"]
        if runs and runs[0]["status"] == "STARTED":
            return dict(runs[0])
        time.sleep(0.5)
    raise TimeoutError(f"the run of backfill {backfill_id} did not start within {timeout:.0f} s")


def run_status(service: DagsterService, run_id: str) -> str:
    return str(service.graphql(RUN_STATUS, {"id": run_id})["runOrError"]["status"])


def owner_of_partition_0(environment: dict[str, str]) -> str:
    with ContainerClient.from_connection_string(
        environment["AZLOGS_STORAGE_CONNECTION_STRING"], environment["AZLOGS_STORAGE_CONTAINER"]
    ) as client:
        for blob in client.list_blobs(include=["metadata"]):
            if blob.name.endswith("/ownership/0"):
                return str(blob.metadata.get("ownerid") or "")  # released: no owner
    return ""


def landed(seeded: SeededService) -> tuple[int, int]:
    """Records this test published (ids `a-0-...`; the seeded hour 00 has others) in
    raw_records: all, and distinct ids."""
    files = [str(path) for path in raw_root(seeded.data_dir).rglob("*.parquet")]
    if not files:
        return (0, 0)
    with duckdb.connect() as con:
        row = con.execute(
            "SELECT count(*), count(DISTINCT record_id) FROM read_parquet(?) "
            "WHERE json_extract_string(record, '$.properties.id') LIKE ?",
            [files, "a-0-%"],
        ).fetchone()
    return (row[0], row[1]) if row else (0, 0)


@pytest.mark.timeout(900)
def test_a_drain_dagster_terminates_stops_safely_and_frees_its_partition(
    seeded_service: SeededService,
) -> None:
    service = seeded_service.dagster
    with dg.DagsterInstance.from_config(str(service.home)) as instance:
        instance.add_dynamic_partitions(EVENTHUB_PARTITIONS.name or "", [KEY])
    published = publish(seeded_service.emulator, partitions=1, events=8000, hours=1)

    first = the_run(service, launch_drain(service))
    deadline = time.monotonic() + 240
    while not any(raw_root(seeded_service.data_dir).rglob("*.parquet")) or not owner_of_partition_0(
        seeded_service.environment
    ):
        assert run_status(service, first["runId"]) == "STARTED", "the drain ended by itself"
        assert time.monotonic() < deadline, "the drain did not claim its partition in time"
        time.sleep(0.2)
    terminated = service.graphql(TERMINATE, {"id": first["runId"]})["terminateRun"]
    assert terminated["__typename"] == "TerminateRunSuccess", terminated
    asked = time.monotonic()
    while run_status(service, first["runId"]) != "CANCELED":
        assert time.monotonic() - asked < 30, run_status(service, first["runId"])
        time.sleep(0.2)
    assert owner_of_partition_0(seeded_service.environment) == "", "the claim is released"
    partial, distinct = landed(seeded_service)
    assert partial == distinct < published, "part landed, once"

    again = launch_drain(service)
    assert wait_until_done(service, again, time.monotonic() + 420) == "COMPLETED_SUCCESS"
    assert landed(seeded_service) == (published, published), "nothing lost, nothing doubled"
