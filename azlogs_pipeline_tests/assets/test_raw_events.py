"""`raw_events` through real Dagster machinery, and `azlogs run` / `azlogs status` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import orjson

from azlogs_pipeline.assets.ingest import (
    CHECK_CATEGORIES,
    CHECK_DEAD_LETTERS,
    CHECK_PARTITION_START,
    CHECK_RETENTION,
)
from azlogs_pipeline_tests.assets.drains import check_results, drain, drain_instance, drain_metadata
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.settings import local_environment
from azlogs_pipeline_tests.fixtures.stack import LocalStack

HUB = "adlogs"


def body(n: int) -> bytes:
    record = {
        "category": "AuditLogs",
        "time": "2026-11-20T08:10:00Z",
        "properties": {"id": f"a-{n}", "activityDateTime": "2026-11-20T07:59:59Z"},
    }
    return orjson.dumps({"records": [record]})


def test_materialize_raw_events_reports_metadata_and_checks(
    local_stack: LocalStack,
) -> None:
    emulator = local_stack(hubs=[HUB], partitions=2)
    send_bodies(emulator.connection_string(HUB), [body(n) for n in range(20)], partition_id="1")
    send_bodies(emulator.connection_string(HUB), [b"{broken"], partition_id="1")
    instance = drain_instance(f"{HUB}:0", f"{HUB}:1")

    result = drain(instance, f"{HUB}:1")

    assert result.success
    meta = drain_metadata(result)
    assert meta["events"] == 21 and meta["records"] == 20 and meta["dead_letters"] == 1
    assert meta["hours_touched"] == ["2026-11-20-07"]
    assert meta["records_per_category"] == {"AuditLogs": 20}
    assert meta["lag_after"] == 0 and meta["lost_to_retention"] == 0
    assert meta["last_sequence_number"] == 20
    checks = check_results(result)
    assert not checks[CHECK_DEAD_LETTERS].passed
    assert checks[CHECK_DEAD_LETTERS].severity == dg.AssetCheckSeverity.WARN
    assert checks[CHECK_RETENTION].passed
    assert checks[CHECK_CATEGORIES].passed
    assert checks[CHECK_PARTITION_START].passed

    newcomer = orjson.dumps({"records": [{"category": "NewThing", "time": "2026-11-20T08:00:00Z"}]})
    ancient = orjson.dumps({"records": [{"category": "AuditLogs", "time": "2019-03-01T08:00:00Z"}]})
    later = [*(body(n) for n in range(20, 49)), ancient, newcomer]
    send_bodies(emulator.connection_string(HUB), later, partition_id="1")
    emulator.apply_retention(HUB, "1", keep_last=11)
    checks = check_results(drain(instance, f"{HUB}:1"))
    assert not checks[CHECK_CATEGORIES].passed, "the record of category NewThing has no table"
    assert checks[CHECK_CATEGORIES].metadata["unknown_categories"].value == {"NewThing": 1}
    old = checks[CHECK_PARTITION_START].metadata["hours_before_partition_start"].value
    assert not checks[CHECK_PARTITION_START].passed and old == ["2019-03-01-08"]
    assert not checks[CHECK_RETENTION].passed
    assert checks[CHECK_RETENTION].severity == dg.AssetCheckSeverity.ERROR
    assert checks[CHECK_RETENTION].metadata["lost_to_retention"].value == 20


def azlogs(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", *args],
        capture_output=True, text=True, timeout=300, cwd=cwd,
        env={**os.environ, **env},
    )  # fmt: skip


REAL_LOOKING_KEY = "q8Ls0Vw2mYkP3fT7uXbN1cZr9eHgJd4aWx6oSiQvBnE="


def test_azlogs_run_and_status_keep_secrets_out_of_everything(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=2)
    send_bodies(emulator.connection_string(HUB), [body(n) for n in range(30)])
    data_dir = tmp_path / "data"
    env = local_environment(emulator, azurite_endpoint, data_dir)
    env["AZLOGS_EVENTHUB_CONNECTION_STRING"] = env["AZLOGS_EVENTHUB_CONNECTION_STRING"].replace(
        "SAS_KEY_VALUE", REAL_LOOKING_KEY
    )
    env.pop("DAGSTER_HOME", None)

    run = azlogs("run", env=env, cwd=tmp_path)
    status = azlogs("status", env=env, cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    assert f"{HUB}:0" in run.stdout and f"{HUB}:1" in run.stdout
    drains = [line.split() for line in run.stdout.splitlines() if line.startswith(f"{HUB}:")]
    assert sum(int(row[3]) for row in drains) == 30
    assert "hour 2026-11-20-07:00 ok: 30 table rows" in run.stdout
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    rows = [line.split() for line in lines if line.startswith(f"{HUB}:")]
    assert [row[0] for row in rows] == [f"{HUB}:0", f"{HUB}:1"]
    assert "builds waiting: 0 table hours, 0 summary partitions" in lines
    assert all(row[4] == "0" and row[5] != "never" for row in rows)
    assert (data_dir / "dagster" / "storage").is_dir(), "runs are recorded in the instance"

    for output in (run.stdout, run.stderr, status.stdout, status.stderr):
        assert REAL_LOOKING_KEY not in output
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert REAL_LOOKING_KEY.encode() not in path.read_bytes(), path
