"""A partition backfill of a day launched through the webserver, as the UI's Materialize button
does, and run by the daemon: a few runs (not one per hour) build every hour, and two builds of
one hour never write at once (the lake's per-hour writer lock), although the runs overlap."""

from __future__ import annotations

import itertools
import time

import dagster as dg
import pyarrow.parquet as pq
import pytest

from azlogs_pipeline.assets.normalize import normalized_tables
from azlogs_pipeline.assets.partitions import HOURLY
from azlogs_pipeline.definitions import defs
from azlogs_pipeline.lake.paths import table_hour_file
from azlogs_pipeline_tests.dagster_service.conftest import (
    SEEDED_DAY,
    SEEDED_HOURS,
    SeededService,
    seeded_records,
)
from azlogs_pipeline_tests.dagster_service.graphql import RUNS, STATUS, launch_backfill
from azlogs_pipeline_tests.dagster_service.service import DagsterService

HOURS = [f"{SEEDED_DAY:%Y-%m-%d}-{hour:02d}:00" for hour in SEEDED_HOURS]
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
BACKFILL_SECONDS = 540


def hourly_asset_keys() -> list[dg.AssetKey]:
    """The tables and every hourly asset built from them (the summaries, once they exist)."""
    graph = defs.resolve_asset_graph()
    built_from_tables = dg.AssetSelection.assets(*normalized_tables.keys).downstream()
    return sorted(
        key
        for key in built_from_tables.resolve(graph)
        if graph.get(key).is_materializable and graph.get(key).partitions_def == HOURLY
    )


def launch(service: DagsterService, keys: list[dg.AssetKey], title: str) -> str:
    """What the UI sends for "Materialize" > a range of partitions: exactly those hours of each
    selected asset (`partitionNames` would also take in every downstream hour that a summary's
    look-back window maps them to)."""
    hours = {"range": {"start": HOURS[0], "end": HOURS[-1]}}
    params = {
        "partitionsByAssets": [{"assetKey": {"path": k.path}, "partitions": hours} for k in keys],
        "title": title,
        # Steps in the run's own process: the same code, without a Python start-up per step
        # (what the launchpad's "execution: in_process" does; it keeps this test short).
        "runConfigData": {"execution": {"config": {"in_process": {}}}},
    }
    return launch_backfill(service, params)


def wait_until_done(service: DagsterService, backfill_id: str, deadline: float) -> str:
    while time.monotonic() < deadline:
        status = service.graphql(STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        assert status["__typename"] == "PartitionBackfill", status
        if status["status"] in DONE:
            return str(status["status"])
        time.sleep(2)
    raise TimeoutError(f"backfill {backfill_id} did not finish within {BACKFILL_SECONDS} s")


@pytest.mark.timeout(BACKFILL_SECONDS + 120)
def test_two_overlapping_backfills_build_every_hour_without_concurrent_runs(
    seeded_service: SeededService,
) -> None:
    service = seeded_service.dagster
    keys = hourly_asset_keys()
    assert {"audit_logs", "signin_logs"} <= {key.path[-1] for key in keys}
    tables = [key for key in keys if key in normalized_tables.keys]
    # Tables only: each summary is a run of its own after its tables (their ranges run like
    # these), too slow for a test on a shared machine.
    keys = tables
    backfills = [launch(service, tables, "tables"), launch(service, tables, "tables again")]
    deadline = time.monotonic() + BACKFILL_SECONDS
    assert [wait_until_done(service, b, deadline) for b in backfills] == ["COMPLETED_SUCCESS"] * 2

    runs = {}
    for backfill in backfills:
        for run in service.graphql(RUNS, {"id": backfill})["runsOrError"]["results"]:
            tags = {tag["key"]: tag["value"] for tag in run["tags"]}
            # The webserver's filter also returns runs the sensors started meanwhile (no
            # backfill tag): keep the backfill's own runs.
            if tags.get("dagster/backfill") == backfill:
                runs[run["runId"]] = (backfill, tags, run)
    assert {run["status"] for _, _, run in runs.values()} == {"SUCCESS"}
    per_backfill = [sum(1 for b, _, _ in runs.values() if b == backfill) for backfill in backfills]
    assert per_backfill == [1, 1], f"one run per backfill of a day, not 24: {per_backfill}"
    ranges = {(tags[RANGE_START], tags[RANGE_END]) for _, tags, _ in runs.values()}
    assert ranges == {(HOURS[0], HOURS[-1])}, ranges

    with dg.DagsterInstance.from_config(str(service.home)) as instance:
        spans: dict[str, list[tuple[float, float, str]]] = {}
        for key in keys:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=HOURS), limit=1000
            ).records
            ours = [r for r in records if r.run_id in runs]
            built = HOURS * 2
            assert sorted(r.partition_key for r in ours) == sorted(built), key
            if key.path[-1] == "audit_logs":
                for record in ours:
                    meta = record.asset_materialization.metadata  # type: ignore[union-attr]
                    written = meta["write_spans"].value
                    assert isinstance(written, dict)
                    for hour, (start, end) in written.items():
                        spans.setdefault(hour, []).append((start, end, record.run_id))
    assert len(spans) == len(HOURS)
    for hour, found in spans.items():
        writes = sorted(set(found))
        assert len({run for _, _, run in writes}) == 2, (hour, writes)
        for before, after in itertools.pairwise(writes):
            assert before[1] <= after[0], f"two builds of {hour} wrote at once: {writes}"
    for hour in SEEDED_HOURS:
        path = table_hour_file(seeded_service.data_dir, "audit_logs", SEEDED_DAY.replace(hour=hour))
        assert pq.read_metadata(path).num_rows == seeded_records(hour)
