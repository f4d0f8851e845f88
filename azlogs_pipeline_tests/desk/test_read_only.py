"""`azlogs sql` is for reading: it writes no file (COPY into the lake would add rows to a view) and
reads no file outside the lake (the stack's env file holds an account key)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from azlogs_pipeline.lake.paths import lake_root, raw_root
from azlogs_pipeline.lake.read_only import connect_read_only, read_only_statements
from azlogs_pipeline_tests.desk.conftest import SECRET, azlogs, azlogs_process


def count(data_dir: Path) -> int:
    with connect_read_only(data_dir) as con:
        row = con.execute("SELECT count(*) FROM raw_records").fetchone()
    return int(row[0]) if row else -1


def test_copy_into_the_lake_is_refused_and_adds_nothing(data_dir: Path) -> None:
    fake = (
        raw_root(data_dir) / "category=AuditLogs" / "date=2026-11-20" / "hour=10" / "fake.parquet"
    )
    copy = f"COPY (SELECT * FROM raw_records LIMIT 1) TO '{fake}' (FORMAT parquet)"
    for sql in (copy, f"SELECT 1; {copy}", f"EXPLAIN ANALYZE {copy}"):
        result = azlogs(data_dir, "sql", sql)
        assert result.returncode == 2, result
        assert "COPY statements are refused" in result.stderr
        assert "azlogs sql is for reading" in result.stderr
        assert result.stdout == "", "nothing runs when one statement is refused"
    export = azlogs(data_dir, "sql", f"EXPORT DATABASE '{lake_root(data_dir) / 'export'}'")
    assert export.returncode == 2 and "EXPORT statements are refused" in export.stderr
    assert not fake.exists() and not (lake_root(data_dir) / "export").exists()
    assert count(data_dir) == 2


@pytest.mark.integration  # azlogs as its own process
def test_files_outside_the_lake_cannot_be_read(data_dir: Path) -> None:
    env_file = data_dir.parent / "azlogs.env"
    for path in (env_file, lake_root(data_dir) / ".." / ".." / env_file.name):
        result = azlogs_process(data_dir, "sql", f"SELECT content FROM read_text('{path}')")
        assert result.returncode == 2
        assert "Permission Error" in result.stderr
        assert SECRET not in result.stdout + result.stderr
    inside = azlogs(
        data_dir,
        "sql",
        f"SELECT count(*) AS n FROM read_parquet('{raw_root(data_dir)}/**/*.parquet')",
    )
    assert inside.returncode == 0 and inside.stdout.splitlines()[2].strip() == "2", inside


def test_the_session_cannot_be_unlocked(data_dir: Path) -> None:
    for sql, refusal in [
        ("SET enable_external_access = true", "Cannot"),
        ("SET allowed_directories = ['/']", "locked"),
        ("SET lock_configuration = false", "locked"),
        ("ATTACH '/tmp/elsewhere.duckdb' AS w", "ATTACH statements are refused"),
        ("INSTALL httpfs", "refused"),
        ("LOAD httpfs", "LOAD statements are refused"),
        ("PREPARE p AS SELECT 1", "PREPARE statements are refused"),
        ("CALL pragma_version()", "CALL statements are refused"),
    ]:
        result = azlogs(data_dir, "sql", sql)
        assert result.returncode == 2 and refusal in result.stderr, (sql, result.stderr)
    zone = azlogs(
        data_dir, "sql", "SET TimeZone = 'Europe/Paris'; SELECT current_setting('TimeZone') AS z"
    )
    assert zone.returncode == 0 and "Europe/Paris" in zone.stdout, zone


def test_the_connection_itself_is_locked_to_the_lake(data_dir: Path, tmp_path: Path) -> None:
    """Beneath the statement check: DuckDB itself refuses files outside the lake, either way."""
    outside = tmp_path.parent / "outside.csv"
    with connect_read_only(data_dir) as con:
        assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"COPY (SELECT 1) TO '{outside}'")
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"SELECT * FROM read_text('{data_dir.parent / 'azlogs.env'}')")
        with pytest.raises(duckdb.Error):
            con.execute("CREATE VIEW planted AS SELECT 1")
        assert [s.type for s in read_only_statements(con, "SELECT 1; SET threads = 1")] == [
            duckdb.StatementType.SELECT,
            duckdb.StatementType.SET,
        ]
    assert not outside.exists()
