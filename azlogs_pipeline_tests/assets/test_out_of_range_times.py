"""Records from the future, drained with the real SDK through `raw_events`: an hour ahead lands in
an hour no partition covers yet and is counted and warned about; year 2999 falls back to the
enqueued time, says so in `event_time_source` and keeps its original value in the record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
import pyarrow.dataset as ds

from azlogs_pipeline.assets.ingest import (
    CHECK_FUTURE,
    CHECK_PARTITION_START,
    RECORDS_OUT_OF_RANGE,
)
from azlogs_pipeline.lake.paths import raw_root
from azlogs_pipeline_tests.assets.drains import check_results, drain, drain_instance, drain_metadata
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.stack import LocalStack

HUB = "adlogs"


def signin(n: int, created: str) -> dict[str, Any]:
    return {
        "category": "SignInLogs",
        "time": created,
        "properties": {"id": f"s-{n}", "createdDateTime": created},
    }


def test_future_and_absurd_times_never_fail_a_drain_and_are_reported(
    local_stack: LocalStack,
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    ahead = now + timedelta(hours=2)
    records = [
        signin(1, now.strftime("%Y-%m-%dT%H:%M:%SZ")),
        signin(2, ahead.strftime("%Y-%m-%dT%H:%M:%SZ")),
        signin(3, "2999-12-31T23:59:59Z"),
    ]
    emulator = local_stack(hubs=[HUB], partitions=1)
    send_bodies(emulator.connection_string(HUB), [orjson.dumps({"records": records})])
    result = drain(drain_instance(f"{HUB}:0"), f"{HUB}:0")

    assert result.success
    meta = drain_metadata(result)
    assert meta["records"] == 3
    assert meta[RECORDS_OUT_OF_RANGE] == 1
    assert f"{ahead:%Y-%m-%d-%H}" in meta["hours_touched"]
    assert not any(hour.startswith("2999") for hour in meta["hours_touched"])
    checks = check_results(result)
    future = checks[CHECK_FUTURE]
    assert not future.passed and future.severity == dg.AssetCheckSeverity.WARN
    assert future.metadata["hours_after_the_current_hour"].value == [f"{ahead:%Y-%m-%d-%H}"]
    assert future.metadata["records"].value == 1
    assert checks[CHECK_PARTITION_START].passed

    lake = ds.dataset(raw_root(tmp_path), format="parquet", partitioning="hive").to_table()
    by_source = dict(
        zip(
            lake.column("event_time_source").to_pylist(),
            lake.column("record").to_pylist(),
            strict=True,
        )
    )
    assert sorted(by_source) == [
        "enqueued_time (properties.createdDateTime in the future)",
        "properties.createdDateTime",
    ]
    absurd = orjson.loads(by_source["enqueued_time (properties.createdDateTime in the future)"])
    assert absurd["properties"]["createdDateTime"] == "2999-12-31T23:59:59Z", "original kept"
