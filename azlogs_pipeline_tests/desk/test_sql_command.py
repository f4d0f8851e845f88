"""`azlogs sql -f FILE.sql`, SQL on standard input, and `azlogs sql --schema [VIEW]`."""

from __future__ import annotations

from pathlib import Path

import pytest

from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline.desk.columns import meaning
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline_tests.desk.conftest import azlogs, azlogs_process


def test_a_file_of_statements(data_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "q.sql"
    script.write_text(
        "-- two results, one setting\nSET TimeZone = 'Asia/Tokyo';\n"
        "SELECT count(*) AS n FROM raw_records;\n"
        "SELECT strftime(min(event_time), '%H') AS h FROM raw_records;\n"
    )
    done = azlogs(data_dir, "sql", "-f", str(script), "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["n", "2", "h", "19"]  # 10:00 UTC is 19:00 in Tokyo
    missing = azlogs(data_dir, "sql", "-f", str(tmp_path / "none.sql"))
    assert missing.returncode == 2 and "is not a file" in missing.stderr
    both = azlogs(data_dir, "sql", "SELECT 1", "-f", str(script))
    assert both.returncode == 2 and "give one of" in both.stderr


@pytest.mark.integration  # azlogs as its own process
def test_sql_on_standard_input(data_dir: Path) -> None:
    done = azlogs_process(
        data_dir, "sql", "--format", "json", stdin="SELECT count(*) AS n FROM deadletters;"
    )
    assert done.returncode == 0 and done.stdout.strip() == '{"n":1}', done.stderr


def test_schema_of_one_view_and_of_all(data_dir: Path) -> None:
    one = azlogs(data_dir, "sql", "--schema", "deadletters")
    assert one.returncode == 0, one.stderr
    lines = one.stdout.splitlines()
    assert lines[0] == "deadletters" and lines[1].split() == ["column", "type", "meaning"]
    assert lines[2].split()[:2] == ["eventhub", "VARCHAR"]
    assert "the event's original bytes" in one.stdout
    assert max(len(line) for line in one.stdout.splitlines()) < 140
    every = azlogs(data_dir, "sql", "--schema")
    names = [line for line in every.stdout.splitlines() if line and not line.startswith(" ")]
    assert {"deadletters", "raw_records", "signin_detections"} <= set(names)
    assert names == sorted(names)
    unknown = azlogs(data_dir, "sql", "--schema", "nope")
    assert unknown.returncode == 2 and "no view named 'nope'" in unknown.stderr
    assert "Views: audit_highlights, deadletters" in unknown.stderr


def test_every_column_of_every_view_has_a_meaning(tmp_path: Path) -> None:
    from azlogs_pipeline.desk.schema import view_columns

    refresh_catalog(tmp_path)
    with connect_read_only(tmp_path) as con:
        views = view_columns(con)
    assert {"signin_logs", "signin_detections", "raw_records", "deadletters"} <= set(views)
    unexplained = [
        f"{view}.{column}"
        for view, columns in views.items()
        for column, _ in columns
        if not meaning(view, column)
    ]
    assert unexplained == [], "write their meaning in azlogs_pipeline/desk/columns.py"
