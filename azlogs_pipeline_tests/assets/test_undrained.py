"""`azlogs run` after crashes and next to other drainers: dead owners and their leaked runs are
cleared at once, a live holder makes the run exit non-zero naming the partition, and a consumer
outside the deployment fails a Dagster check. Real emulator, Azurite, Dagster and processes."""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
import psutil
import pytest

from azlogs_pipeline.assets.ingest import CHECK_CONSUMER_GROUP
from azlogs_pipeline.config import load_settings
from azlogs_pipeline.ingest.clients import ensure_container, make_checkpoint_store
from azlogs_pipeline.lake.paths import raw_root
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline_tests.assets.drains import check_results, drain, drain_instance, drain_metadata
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.settings import local_environment

HUB = "adlogs"
HOLDER = textwrap.dedent(
    """
    import sys
    from azlogs_pipeline.config import load_settings
    from azlogs_pipeline.ingest.clients import make_checkpoint_store
    from azlogs_pipeline.ingest.ownership import PartitionClaim
    store = make_checkpoint_store(load_settings().storage)
    claim = PartitionClaim(store, sys.argv[1], "adlogs", "$Default", "1", run_id="holder-run")
    claim.acquire()
    print("held", flush=True)
    sys.stdin.readline()
    claim.renew()  # raises if anyone took the claim meanwhile
    claim.release()
    print("renewed", flush=True)
    """
)


def signins(start: int, count: int = 20) -> bytes:
    records = [
        {
            "category": "SignInLogs",
            "time": "2026-11-20T10:05:00Z",
            "properties": {
                "id": f"s-{n}",
                "createdDateTime": "2026-11-20T10:00:00Z",
                "userAgent": "x" * 200,
            },
        }
        for n in range(start, start + count)
    ]
    return orjson.dumps({"records": records})


def run_env(
    emulator: Any, azurite: AzuriteEndpoint, data_dir: Path, **extra: str
) -> dict[str, str]:
    env = {**os.environ, **local_environment(emulator, azurite, data_dir, **extra)}
    env.pop("DAGSTER_HOME", None)
    return env


def azlogs_run(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", "run"],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )  # fmt: skip


def landed_files(data_dir: Path) -> int:
    root = raw_root(data_dir)
    return (
        sum(1 for p in root.rglob("*.parquet") if not p.name.startswith("."))
        if root.exists()
        else 0
    )


def test_a_live_holder_makes_the_run_fail_naming_its_partition_and_is_left_alone(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=2)
    for partition in ("0", "1"):
        bodies = [signins(int(partition) * 1000 + n * 20) for n in range(5)]
        send_bodies(emulator.connection_string(HUB), bodies, partition_id=partition)
    data_dir = tmp_path / "data"
    env = run_env(emulator, azurite_endpoint, data_dir)
    ensure_container(load_settings(env).storage)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, f"127.0.0.1:{emulator.port}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        run = azlogs_run(env, tmp_path)
        out, _ = holder.communicate("go\n", timeout=60)
    finally:
        holder.kill()

    assert run.returncode == 1, run.stdout + run.stderr
    (line,) = [x for x in run.stderr.splitlines() if x.startswith(f"{HUB}:1 not drained")]
    assert f"held by azlogs on host {os.uname().nodename} pid {holder.pid}" in line
    assert "(Dagster run holder-run)" in line and "still running" in line
    assert "hour 2026-11-20-10:00 ok" in run.stdout, "the other partition's hour is still built"
    with connect_read_only(data_dir) as con:
        by_partition = dict(
            con.sql("SELECT partition_id, count(*) FROM raw_records GROUP BY 1").fetchall()
        )
        assert by_partition == {"0": 100}, "nothing landed for the held partition"
    assert out.strip() == "renewed", "the first drainer kept its claim"


def test_a_consumer_outside_the_deployment_fails_a_check(
    eventhubs_emulator_factory: Any,
    azurite_endpoint: AzuriteEndpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    send_bodies(emulator.connection_string(HUB), [signins(0)], partition_id="0")
    env = local_environment(emulator, azurite_endpoint, tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    storage = load_settings(env).storage
    ensure_container(storage)
    store = make_checkpoint_store(storage)
    request = {
        "fully_qualified_namespace": f"127.0.0.1:{emulator.port}",
        "eventhub_name": HUB,
        "consumer_group": "$Default",
        "partition_id": "0",
        "owner_id": "5b0f9d4e-another-product",  # e.g. a SIEM's SDK load balancer
    }
    assert list(store.claim_ownership([request]))
    store.close()
    result = drain(drain_instance(f"{HUB}:0"), f"{HUB}:0", raise_on_error=False)

    check = check_results(result)[CHECK_CONSUMER_GROUP]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    held_by = check.metadata["held_by"].value
    assert "another consumer of consumer group '$Default'" in str(held_by)
    assert "5b0f9d4e-another-product" in str(held_by)
    meta = drain_metadata(result)
    assert meta["status"] == "owned_elsewhere" and meta["records"] == 0


@pytest.mark.timeout(900)  # five `azlogs run` processes; about 90 s on an idle 2-core machine
def test_four_kills_mid_drain_then_one_run_lands_everything_exactly_once(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=2)
    published = 0

    def publish(events: int) -> None:
        nonlocal published
        bodies = [signins(published + 20 * n) for n in range(events)]
        send_bodies(emulator.connection_string(HUB), bodies)
        published += 20 * events

    publish(200)
    data_dir = tmp_path / "data"
    # Small flushes so that each drain lands files (and checkpoints) before it is killed; a slot
    # wait bound so that a leaked slot fails the final run quickly instead of hanging it.
    env = run_env(
        emulator, azurite_endpoint, data_dir,
        AZLOGS_FLUSH_RECORDS="300", AZLOGS_SLOT_WAIT_SECONDS="20",
    )  # fmt: skip
    rng = random.Random(20261201)
    kills = 0
    while kills < 4:
        process = subprocess.Popen(
            [sys.executable, "-m", "azlogs_pipeline.cli", "run"],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        before = landed_files(data_dir)
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if landed_files(data_dir) > before:
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.3))
        if process.poll() is None:
            # kill -9 of `azlogs run` and its drain workers (an evicted pod, a killed container):
            # their claims and their STARTED runs with pool slots stay behind.
            for victim in [*psutil.Process(process.pid).children(recursive=True), process]:
                with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                    victim.kill()
            kills += 1
        process.wait()
        publish(50)  # whatever the kill left, the next run has a backlog to be killed in

    run = azlogs_run(env, tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "marked failed: run" in run.stdout, "the killed runs were found, their slots freed"
    with connect_read_only(data_dir) as con:
        raw = con.execute("SELECT count(DISTINCT record_id) FROM raw_records").fetchone()
        rows, distinct = con.execute(
            "SELECT count(*), count(DISTINCT record_id) FROM signin_logs"
        ).fetchone() or (0, 0)
    assert raw == (published,)
    assert rows == distinct == published
