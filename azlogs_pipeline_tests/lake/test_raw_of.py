"""raw_of(record_id, event_time): the way back from a table row (the tables have no `raw`) to its
raw record, reading only that hour's raw files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson
import pytest

from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline.lake.paths import raw_hour_dir
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.normalize import build_hour
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw
from azlogs_pipeline_tests.normalize.test_signin_logs import interactive

HOUR = datetime(2025, 3, 1, 10, tzinfo=UTC)
NEXT = HOUR + timedelta(hours=1)


def _signin(name: str, hour: datetime) -> dict[str, object]:
    record = interactive(name)
    record["properties"]["createdDateTime"] = (hour + timedelta(minutes=7)).isoformat()  # type: ignore[index]
    return record


def test_raw_of_gives_a_rows_raw_record_from_its_hour_only(tmp_path: Path) -> None:
    first, other = _signin("s1", HOUR), _signin("s2", NEXT)
    write_raw(tmp_path, [first, other], NEXT + timedelta(minutes=5))
    write_raw(tmp_path, [first], NEXT, eventhub="second-hub")  # landed twice
    for hour in (HOUR, NEXT):
        build_hour(tmp_path, hour, ["signin_logs"])
    refresh_catalog(tmp_path)
    (next_file,) = raw_hour_dir(tmp_path, "SignInLogs", NEXT).glob("*.parquet")
    next_file.write_bytes(next_file.read_bytes()[:100])  # unreadable: must not be read

    with connect_read_only(tmp_path) as con:
        assert "raw" not in [c[0] for c in con.execute("DESCRIBE signin_logs").fetchall()]
        record_id, event_time = con.execute(
            "SELECT record_id, event_time FROM signin_logs WHERE id = 's1'"
        ).fetchone()
        rows = con.execute(
            "SELECT record_id, category, record FROM raw_of($id, $at)",
            {"id": record_id, "at": event_time},
        ).fetchall()
        assert [(r[0], r[1]) for r in rows] == [(record_id, "SignInLogs")], "one, its first copy"
        assert orjson.loads(rows[0][2]) == first
        assert con.execute(
            "SELECT count(*) FROM raw_of('no-such-record', $at)", {"at": event_time}
        ).fetchone() == (0,)
        with pytest.raises(duckdb.Error):  # the other hour's file is indeed unreadable
            con.execute("SELECT count(*) FROM raw_records").fetchall()
