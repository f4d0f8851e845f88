"""An analyst's read-only session, querying in a loop, during a whole `azlogs run`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson

from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.settings import local_environment

HUB = "adlogs"
ANALYST = textwrap.dedent(
    """
    import os, sys, time, duckdb
    catalog, stop = sys.argv[1], sys.argv[2]
    con = duckdb.connect(catalog, read_only=True)
    ok = failed = seen = 0
    deadline = time.monotonic() + 240
    while not os.path.exists(stop) and time.monotonic() < deadline:
        try:
            seen = con.execute(
                "SELECT (SELECT count(*) FROM raw_records) + (SELECT count(*) FROM signin_logs)"
            ).fetchone()[0]
            ok += 1
        except Exception as exc:
            failed += 1
            print(repr(exc), file=sys.stderr)
    seen = con.execute(
        "SELECT (SELECT count(*) FROM raw_records) + (SELECT count(*) FROM signin_logs)"
    ).fetchone()[0]
    print(ok, failed, seen)
    """
)


def signins(start: int) -> bytes:
    records = [
        {
            "category": "SignInLogs",
            "time": "2026-11-20T10:05:00Z",
            "properties": {"id": f"s-{n}", "createdDateTime": "2026-11-20T10:00:00Z"},
        }
        for n in range(start, start + 50)
    ]
    return orjson.dumps({"records": records})


def test_an_open_analyst_session_and_a_run_never_fail_each_other(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=2)
    send_bodies(emulator.connection_string(HUB), [signins(n * 50) for n in range(40)])
    data_dir = tmp_path / "data"
    env = {**os.environ, **local_environment(emulator, azurite_endpoint, data_dir)}
    env.pop("DAGSTER_HOME", None)
    catalog = refresh_catalog(data_dir)
    stop = tmp_path / "stop"
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(catalog), str(stop)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        run = subprocess.run(
            [sys.executable, "-m", "azlogs_pipeline.cli", "run"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
        )  # fmt: skip
    finally:
        stop.touch()
        out, err = analyst.communicate(timeout=60)
    assert run.returncode == 0, run.stderr
    ok, failed, seen = map(int, out.split())
    assert failed == 0, err
    assert ok > 10
    assert seen == 2000 + 2000, "the same session sees the new raw records and table rows"
