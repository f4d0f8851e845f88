"""The whole flow (drain, then build the touched hours) on a Dagster instance kept in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg2
import pytest
from dagster_postgres import PostgresRunStorage

from azlogs_pipeline.config import load_settings
from azlogs_pipeline.instance import open_instance
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.runner import build_pending, drain_all, lake_plan
from azlogs_pipeline_tests.dagster_service.postgres import PostgresServer, running_postgres
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.settings import local_environment

HUB = "adlogs"
PASSWORD = "pg-s3cret-not-in-files"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


def signin(n: int, when: str) -> bytes:
    record = {
        "category": "SignInLogs",
        "time": when,
        "properties": {"id": f"s-{n}", "createdDateTime": when, "userPrincipalName": "a@b.c"},
    }
    return orjson.dumps({"records": [record]})


def count_rows(server: PostgresServer, sql: str) -> int:
    with psycopg2.connect(server.url(PASSWORD)) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


def test_drain_and_build_record_their_runs_in_postgres(
    postgres: PostgresServer,
    eventhubs_emulator_factory: Any,
    azurite_endpoint: AzuriteEndpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=2)
    environment = local_environment(
        emulator, azurite_endpoint, tmp_path, AZLOGS_DAGSTER_PG_URL=postgres.url(PASSWORD)
    )
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    times = ["2026-11-20T07:10:00Z", "2026-11-20T07:50:00Z", "2026-11-20T09:05:00Z"]
    send_bodies(emulator.connection_string(HUB), [signin(n, t) for n, t in enumerate(times)])
    settings = load_settings()

    with open_instance(settings.data_dir) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        drains = drain_all(instance, settings)
        hours = lake_plan(settings.data_dir).table_hours
        builds = build_pending(instance, settings.data_dir)
    assert [d.success for d in drains] == [True, True], [d.error for d in drains]
    assert hours == ("2026-11-20-07", "2026-11-20-09")
    assert all(b.success for b in builds), [b.error for b in builds]

    written = (tmp_path / "dagster" / "dagster.yaml").read_text()
    assert "env: AZLOGS_DAGSTER_PG_URL" in written
    assert PASSWORD not in written
    assert not list((tmp_path / "dagster").rglob("*.db")), "no SQLite storage next to PostgreSQL"

    run_ids = {run.run_id for run in drains} | {run.run_id for run in builds}
    assert len(run_ids) == len(drains) + len(builds) >= 3
    assert count_rows(postgres, "SELECT count(*) FROM runs") == len(run_ids)
    assert count_rows(postgres, "SELECT count(*) FROM event_logs") > 0
    with open_instance(settings.data_dir) as reopened:  # a second process sees the same history
        assert {r.run_id for r in reopened.get_runs()} == run_ids

    with connect_read_only(tmp_path) as con:
        ids = con.execute("SELECT id FROM signin_logs ORDER BY id").fetchall()
    assert ids == [("s-0",), ("s-1",), ("s-2",)]


def test_separate_host_user_password_settings_reach_the_same_server(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("AZLOGS_DAGSTER_PG_URL", raising=False)
    for name, value in {
        "HOST": postgres.host,
        "PORT": str(postgres.port),
        "USER": postgres.user,
        "PASSWORD": PASSWORD,
        "DB": "postgres",
    }.items():
        monkeypatch.setenv(f"AZLOGS_DAGSTER_PG_{name}", value)
    with open_instance(tmp_path) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        instance.add_dynamic_partitions("probe", ["written-through-parts"])
    written = (tmp_path / "dagster" / "dagster.yaml").read_text()
    assert "env: AZLOGS_DAGSTER_PG_PORT" in written and PASSWORD not in written
    assert count_rows(postgres, "SELECT count(*) FROM dynamic_partitions") >= 1
    with open_instance(tmp_path) as reopened:
        assert reopened.get_dynamic_partitions("probe") == ["written-through-parts"]
