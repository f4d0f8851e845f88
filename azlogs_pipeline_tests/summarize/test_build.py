"""The summary machinery: read windows bounded by the partition, empty inputs, file layout,
specs, thresholds and catalog views."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline.lake.paths import summary_day_file, summary_hour_file, table_hour_file
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.summarize import (
    SUMMARIES,
    DetectionThresholds,
    SummarySpec,
    build_summary,
    partition_window,
    summary_schema,
    summary_spec,
)
from azlogs_pipeline.summarize.build import summary_file
from azlogs_pipeline_tests.fixtures.generated import MY_SUMMARIES
from azlogs_pipeline_tests.summarize.signins import T0, signin, write_signins


@pytest.mark.parametrize("name", MY_SUMMARIES)
def test_an_empty_lake_builds_no_rows_and_no_file(tmp_path: Path, name: str) -> None:
    result = build_summary(tmp_path, name, T0)
    assert (result.rows, result.files, result.path) == (0, 0, None)
    assert result.data.schema.names == summary_schema(name).names
    assert not summary_hour_file(tmp_path, name, T0).exists()


def test_only_the_window_and_its_lookback_are_read(tmp_path: Path) -> None:
    """Files outside [window - lookback, window end) are never opened: here they are not even
    Parquet, so reading one would fail the build."""
    write_signins(tmp_path, [signin(T0 + timedelta(minutes=5)), signin(T0 - timedelta(days=13))])
    for outside in (T0 + timedelta(hours=1), T0 - timedelta(days=14, hours=1)):
        junk = table_hour_file(tmp_path, "signin_logs", outside)
        junk.parent.mkdir(parents=True, exist_ok=True)
        junk.write_bytes(b"not parquet")
    summary = build_summary(tmp_path, "signin_summary", T0)
    assert (summary.files, summary.rows) == (1, 1)
    detections = build_summary(tmp_path, "signin_detections", T0)
    assert detections.files == 2, "the hour and the one 13 days back, within the 14 days"
    assert detections.lookback_start == T0 - timedelta(
        hours=summary_spec(detections.name).lookback_hours
    )


def test_lookback_rows_are_history_only(tmp_path: Path) -> None:
    write_signins(tmp_path, [signin(T0 - timedelta(hours=1)), signin(T0 + timedelta(minutes=1))])
    result = build_summary(tmp_path, "signin_summary", T0)
    assert [row["attempts"] for row in result.data.to_pylist()] == [1]


def test_partition_windows_and_files_by_grain(tmp_path: Path) -> None:
    moment = T0 + timedelta(minutes=42)
    hourly = SummarySpec("hourly_thing", ("signin_logs",))
    daily = SummarySpec("daily_thing", ("signin_logs",), lookback_hours=48, grain="day")
    assert partition_window(hourly, moment) == (T0, T0 + timedelta(hours=1))
    day = T0.replace(hour=0)
    assert partition_window(daily, moment) == (day, day + timedelta(days=1))
    assert summary_file(tmp_path, hourly, T0) == summary_hour_file(tmp_path, "hourly_thing", T0)
    assert summary_file(tmp_path, daily, day).relative_to(tmp_path).as_posix() == (
        "lake/summaries/daily_thing/date=2026-03-10/part.parquet"
    )
    assert summary_day_file(tmp_path, "daily_thing", moment) == summary_file(tmp_path, daily, day)


def test_specs_are_checked() -> None:
    with pytest.raises(ValueError, match="grain"):
        SummarySpec("x", ("signin_logs",), grain="week")
    with pytest.raises(ValueError, match="reads no table"):
        SummarySpec("x", ())
    with pytest.raises(ValueError, match=r"known summaries: .*signin_summary"):
        summary_spec("nope")
    with pytest.raises(ValueError, match="not safe"):
        summary_hour_file(Path("."), "../escape", T0)
    assert {"signin_summary", "signin_detections"} <= {spec.name for spec in SUMMARIES}


def test_thresholds_are_checked_and_typed() -> None:
    with pytest.raises(ValueError, match="spray_min_users must be positive"):
        DetectionThresholds(spray_min_users=0)
    with pytest.raises(ValueError, match="new_country_history_days at most 14"):
        DetectionThresholds(new_country_history_days=15)
    table = DetectionThresholds(impossible_travel_speed_kmh=800).to_arrow()
    assert table.num_rows == 1
    assert table.schema.field("impossible_travel_speed_kmh").type == pa.float64()
    assert table.schema.field("spray_error_codes").type == pa.list_(pa.int64())
    assert table.column("spray_error_codes").to_pylist() == [[50126, 50053, 50055]]


def test_every_summary_is_a_catalog_view_that_answers_on_an_empty_lake(tmp_path: Path) -> None:
    refresh_catalog(tmp_path)
    with connect_read_only(tmp_path) as con:
        for spec in SUMMARIES:
            cursor = con.execute(f'SELECT * FROM "{spec.name}"')
            assert cursor.fetchall() == [], spec.name
            assert [d[0] for d in cursor.description] == summary_schema(spec.name).names
    write_signins(tmp_path, [signin(T0)])
    build_summary(tmp_path, "signin_summary", T0)
    with connect_read_only(tmp_path) as con:
        assert con.execute("SELECT sum(attempts) FROM signin_summary").fetchall() == [(1,)]
