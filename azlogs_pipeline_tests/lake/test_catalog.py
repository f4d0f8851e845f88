"""The analysts' catalog: every view answers on an empty lake, sees new data, never blocks a run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from azlogs_pipeline import catalog
from azlogs_pipeline.catalog import ensure_catalog, refresh_catalog
from azlogs_pipeline.lake.paths import catalog_path, schema_seed_path, summary_root, table_root
from azlogs_pipeline.lake.raw_schema import DEADLETTER_SCHEMA, RAW_RECORDS_SCHEMA
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.normalize.schemas import table_schemas
from azlogs_pipeline_tests.normalize.raw_fixtures import land_with_a_dead_letter

TABLE = pa.schema([("id", pa.string()), ("event_time", pa.timestamp("us", tz="UTC"))])


def test_every_view_answers_on_an_empty_lake(tmp_path: Path) -> None:
    ensure_catalog(tmp_path, {"audit_logs": TABLE}, {}, {})
    with connect_read_only(tmp_path) as con:
        for view, schema in [
            ("raw_records", RAW_RECORDS_SCHEMA),
            ("deadletters", DEADLETTER_SCHEMA),
            ("audit_logs", TABLE),
        ]:
            relation = con.sql(f"SELECT * FROM {view}")
            assert relation.columns == schema.names
            assert relation.fetchall() == []


def test_views_see_new_data_without_touching_the_catalog(tmp_path: Path) -> None:
    ensure_catalog(tmp_path, {}, {}, {})
    built = catalog_path(tmp_path).stat().st_mtime_ns
    land_with_a_dead_letter(tmp_path, 5)
    ensure_catalog(tmp_path, {}, {}, {})
    assert catalog_path(tmp_path).stat().st_mtime_ns == built, "unchanged catalog is not rewritten"
    with connect_read_only(tmp_path) as con:
        assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (5,)
        assert con.execute("SELECT count(*) FROM deadletters").fetchone() == (1,)


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    ok = failed = 0
    deadline = time.monotonic() + float(sys.argv[2])
    con = duckdb.connect(sys.argv[1], read_only=True)
    while time.monotonic() < deadline:
        try:
            con.sql("SELECT count(*) FROM raw_records").fetchall()
            ok += 1
        except Exception as exc:
            failed += 1
            print(exc, file=sys.stderr)
    print(ok, failed)
    """
)


@pytest.mark.integration  # the reader is a process of its own
def test_a_reader_held_open_neither_blocks_nor_fails_a_rebuild(tmp_path: Path) -> None:
    land_with_a_dead_letter(tmp_path, 3)
    path = ensure_catalog(tmp_path, {}, {}, {})
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(path), "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    time.sleep(1.5)
    ensure_catalog(tmp_path, {"audit_logs": TABLE}, {}, {})  # a new view: the file is replaced
    land_with_a_dead_letter(tmp_path / "more", 1)
    out, err = reader.communicate(timeout=60)
    ok, failed = map(int, out.split())
    assert reader.returncode == 0 and failed == 0, err
    assert ok > 0
    with connect_read_only(tmp_path) as con:
        assert con.execute("SELECT count(*) FROM audit_logs").fetchone() == (0,)


@pytest.mark.integration  # azlogs as its own process
def test_azlogs_sql_formats(tmp_path: Path) -> None:
    land_with_a_dead_letter(tmp_path, 2)
    ensure_catalog(tmp_path, {}, {}, {})
    env = {**os.environ, "AZLOGS_DATA_DIR": str(tmp_path)}
    query = "SELECT category, count(*) AS n FROM raw_records GROUP BY 1"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "azlogs_pipeline.cli", "sql", *args],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip

    assert orjson.loads(run(query, "--format", "json").stdout) == {"category": "AuditLogs", "n": 2}
    assert run(query, "--format", "csv").stdout.splitlines() == ["category,n", "AuditLogs,2"]
    assert run(query).stdout.splitlines() == [
        "category   n",
        "---------  -",
        "AuditLogs  2",
        "(1 rows)",
    ]
    bad = run("SELECT * FROM nowhere")
    assert bad.returncode == 2 and "the query failed" in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", "sql", "SELECT 1"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "AZLOGS_DATA_DIR": str(tmp_path / "none")},
    )  # fmt: skip
    assert missing.returncode == 2 and "No catalog" in missing.stderr


def test_every_table_view_answers_on_a_fresh_lake(tmp_path: Path) -> None:
    schemas = table_schemas()
    ensure_catalog(tmp_path, schemas, {}, {})
    with connect_read_only(tmp_path) as con:
        for table, schema in schemas.items():
            relation = con.sql(f'SELECT * FROM "{table}"')
            assert relation.columns == schema.names, table
            assert relation.fetchall() == [], table


def test_a_lake_with_its_seeds_is_refreshed_without_running_any_table_or_summary_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = refresh_catalog(tmp_path)
    built = path.stat().st_mtime_ns
    asked: list[str] = []

    def spy(real: Callable[[str], pa.Schema]) -> Callable[[str], pa.Schema]:
        def schema_of(name: str) -> pa.Schema:
            asked.append(name)
            return real(name)

        return schema_of

    monkeypatch.setattr(catalog, "table_schema", spy(catalog.table_schema))
    monkeypatch.setattr(catalog, "summary_schema", spy(catalog.summary_schema))
    assert refresh_catalog(tmp_path) == path
    assert asked == [], "every seed is there: no schema is computed (a raw drain runs no SQL)"
    assert path.stat().st_mtime_ns == built, "an unchanged catalog is not rewritten"

    schema_seed_path(table_root(tmp_path, "audit_logs")).unlink()
    schema_seed_path(summary_root(tmp_path, "signin_summary")).unlink()
    refresh_catalog(tmp_path)
    assert asked == ["audit_logs", "signin_summary"], "only the missing seeds' schemas"
    with connect_read_only(tmp_path) as con:
        assert con.sql("SELECT * FROM audit_logs").columns == table_schemas()["audit_logs"].names
        assert con.sql("SELECT * FROM signin_summary").fetchall() == []
