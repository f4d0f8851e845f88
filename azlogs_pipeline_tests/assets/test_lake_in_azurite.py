"""End to end with the lake in Azurite (`AZLOGS_LAKE_URL`): `azlogs run`, `azlogs sql`, kill -9
mid-drain, and no secret in any local file."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline.config import load_settings
from azlogs_pipeline.ingest.drain import drain_partition
from azlogs_pipeline.ingest.records import record_id
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.local.azurite import DEV_ACCOUNT_KEY
from azlogs_pipeline.normalize import build_hour
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.lake import AzuriteLake
from azlogs_pipeline_tests.fixtures.settings import local_environment
from azlogs_pipeline_tests.ingest.test_crash_safety import drain_killed_mid_way

HUB = "adlogs"


def signins(first: int, count: int = 20, hour: int = 10) -> list[dict[str, Any]]:
    return [
        {
            "category": "SignInLogs",
            "time": f"2026-11-20T{hour:02d}:05:00Z",
            "properties": {
                "id": f"s-{n}",
                "createdDateTime": f"2026-11-20T{hour:02d}:{n % 60:02d}:00Z",
                "userAgent": "x" * 200,
            },
        }
        for n in range(first, first + count)
    ]


def _azlogs(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )  # fmt: skip


@pytest.mark.timeout(
    900
)  # two `azlogs run` subprocesses' worth of Dagster runs on a loaded machine
def test_run_and_sql_with_the_lake_in_azurite_and_no_secret_or_lake_file_on_disk(
    eventhubs_emulator_factory: Any,
    azurite_endpoint: AzuriteEndpoint,
    azurite_lake: AzuriteLake,
    tmp_path: Path,
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=2)
    bodies = [orjson.dumps({"records": signins(n * 20, hour=10 + n % 2)}) for n in range(30)]
    send_bodies(emulator.connection_string(HUB), bodies)
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        **local_environment(emulator, azurite_endpoint, data_dir),
        **azurite_lake.environment,
    }
    env.pop("DAGSTER_HOME", None)
    run = _azlogs(env, tmp_path, "run")
    assert run.returncode == 0, run.stderr

    query = "SELECT (SELECT count(*) FROM signin_logs) AS rows, (SELECT count(*) FROM raw_records) AS raw"
    sql = _azlogs(env, tmp_path, "sql", query, "--format", "json")
    assert sql.returncode == 0, sql.stderr
    assert orjson.loads(sql.stdout) == {"rows": 600, "raw": 600}

    names = azurite_lake.blob_names()
    assert any(
        n.startswith("azlogs/raw/category=SignInLogs/date=2026-11-20/hour=11/") for n in names
    )
    assert any(
        n.startswith("azlogs/tables/signin_logs/date=2026-11-20/hour=10/part-") for n in names
    )
    local_parquet = [p for p in tmp_path.rglob("*.parquet")]
    assert local_parquet == [], "no lake file on the local disk"
    assert not (data_dir / "lake").exists()
    key = DEV_ACCOUNT_KEY.encode()
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "azlogs.duckdb" for p in files)
    assert any("dagster" in p.parts for p in files), "the Dagster instance is under the data dir"
    holding = [str(p) for p in files if key in p.read_bytes()]
    assert holding == [], f"the storage key is written in {holding}"


def test_kill_9_mid_drain_three_times_with_the_lake_in_azurite_lands_every_record_once(
    eventhubs_emulator_factory: Any,
    azurite_endpoint: AzuriteEndpoint,
    azurite_lake: AzuriteLake,
    tmp_path: Path,
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    published: list[dict[str, Any]] = []

    def publish(events: int) -> None:
        batch = [signins(len(published) + e * 20, hour=e % 3) for e in range(events)]
        for records in batch:
            published.extend(records)
        send_bodies(emulator.connection_string(HUB), [orjson.dumps({"records": rs}) for rs in batch], partition_id="0")  # fmt: skip

    publish(400)
    env = {
        **local_environment(emulator, azurite_endpoint, tmp_path, AZLOGS_FLUSH_RECORDS="400"),
        **azurite_lake.environment,
    }
    settings = load_settings(env)
    rng = random.Random(20261201)
    kills = 0
    for _ in range(8):
        if kills >= 3:
            break
        # Under way once it lands batches; a killed drain's claim is a dead process's: the next
        # drain takes it over at once.
        if drain_killed_mid_way(env, lambda: len(azurite_lake.blob_names()), rng, 0.3):
            kills += 1
        else:
            publish(200)
    assert kills == 3, "the drain should have been killed mid-way three times"

    final = drain_partition(settings, HUB, "0")
    assert final.lag_after == 0
    for hour in range(3):
        build_hour(tmp_path, settings_hour(hour), ["signin_logs"])
    refresh_catalog(tmp_path)
    with connect_read_only(tmp_path) as con:
        ids = [row[0] for row in con.execute("SELECT record_id FROM signin_logs").fetchall()]
    assert len(ids) == len(set(ids)), "no record twice in the table"
    assert set(ids) == {record_id(r) for r in published}, "every record in the table"
    assert not list(tmp_path.rglob("*.parquet")), "no lake file on the local disk"


def settings_hour(hour: int) -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 11, 20, hour, tzinfo=UTC)
