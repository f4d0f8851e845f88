"""plan_builds: the lake alone says which hours and summary partitions need building."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from azlogs_pipeline.lake.parquet import open_parquet
from azlogs_pipeline.lake.paths import (
    current_partition_file,
    raw_hour_dir,
    summary_hour_file,
    table_hour_file,
)
from azlogs_pipeline.lake.reconcile import plan_builds
from azlogs_pipeline.normalize import build_hour
from azlogs_pipeline.summarize.build import build_summaries
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw
from azlogs_pipeline_tests.normalize.test_signin_logs import interactive

HOUR = datetime(2025, 3, 1, 10, tzinfo=UTC)
FIRST, LAST = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 31, tzinfo=UTC)


def signin(n: int, hour: datetime = HOUR) -> dict[str, object]:
    record = interactive(f"s{n}")
    record["properties"]["createdDateTime"] = (hour + timedelta(minutes=n % 60)).isoformat()  # type: ignore[index]
    return record


def plan(data_dir: Path) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    found = plan_builds(data_dir, FIRST, LAST)
    return found.table_hours, found.summary_partitions


def build_everything(data_dir: Path) -> None:
    for key in plan_builds(data_dir, FIRST, LAST).table_hours:
        build_hour(data_dir, datetime.strptime(key, "%Y-%m-%d-%H").replace(tzinfo=UTC))
    for _ in range(3):  # a summary that reads another one is ready in the round after it
        build_ready_summaries(data_dir)


def build_ready_summaries(data_dir: Path) -> None:
    for name, keys in plan_builds(data_dir, FIRST, LAST).summary_partitions.items():
        for key in keys:
            start = datetime.strptime(key, "%Y-%m-%d-%H").replace(tzinfo=UTC)
            build_summaries(data_dir, name, start, start + timedelta(hours=1))


def signin_ids(data_dir: Path, hour: datetime = HOUR) -> list[str]:
    path = current_partition_file(table_hour_file(data_dir, "signin_logs", hour))
    if path is None:
        return []
    return sorted(open_parquet(path).read(columns=["id"]).column("id").to_pylist())


LAKES = pytest.mark.parametrize(
    "lake", ["local", pytest.param("blob", marks=pytest.mark.integration)]
)
"""The same test on a local lake and on a lake in Azurite (`AZLOGS_LAKE_URL`)."""


def use_lake(lake: str, request: pytest.FixtureRequest) -> None:
    if lake == "blob":
        request.getfixturevalue("azurite_lake")


@LAKES
def test_raw_files_added_replaced_or_removed_make_their_hour_pending(
    tmp_path: Path, lake: str, request: pytest.FixtureRequest
) -> None:
    use_lake(lake, request)
    assert plan(tmp_path) == ((), {})
    write_raw(tmp_path, [signin(1)])
    write_raw(tmp_path, [signin(2)])
    assert plan(tmp_path)[0] == ("2025-03-01-10",)
    build_everything(tmp_path)
    assert plan(tmp_path) == ((), {}), "a built hour is left alone"
    assert signin_ids(tmp_path) == ["s1", "s2"]

    write_raw(tmp_path, [signin(3)])  # a late record
    tables, summaries = plan(tmp_path)
    assert tables == ("2025-03-01-10",) and not summaries, "summaries wait for their table hours"
    build_everything(tmp_path)
    assert plan(tmp_path) == ((), {})
    assert signin_ids(tmp_path) == ["s1", "s2", "s3"]

    first, *_ = sorted(raw_hour_dir(tmp_path, "SignInLogs", HOUR).glob("*.parquet"))
    first.unlink()  # a raw file removed: rebuilt without it
    assert plan(tmp_path)[0] == ("2025-03-01-10",)
    build_everything(tmp_path)
    assert signin_ids(tmp_path) == ["s2", "s3"]

    for path in raw_hour_dir(tmp_path, "SignInLogs", HOUR).glob("*.parquet"):
        path.unlink()  # all of them: the hour has no table rows, then nothing is pending
    assert plan(tmp_path)[0] == ("2025-03-01-10",)
    build_everything(tmp_path)
    assert signin_ids(tmp_path) == []
    assert plan(tmp_path)[0] == ()


@LAKES
def test_an_interrupted_build_is_pending_again(
    tmp_path: Path, lake: str, request: pytest.FixtureRequest
) -> None:
    use_lake(lake, request)
    write_raw(tmp_path, [signin(1)])
    build_everything(tmp_path)
    directory = table_hour_file(tmp_path, "signin_logs", HOUR).parent
    (manifest,) = directory.glob("_inputs-*.json")
    manifest.unlink()  # killed after the file was replaced, before its manifest was written
    assert plan(tmp_path)[0] == ("2025-03-01-10",)
    build_everything(tmp_path)
    assert plan(tmp_path) == ((), {})


def test_summaries_follow_every_table_hour_of_their_look_back(tmp_path: Path) -> None:
    later = HOUR + timedelta(days=3)
    write_raw(tmp_path, [signin(1)])
    write_raw(tmp_path, [signin(2, later)], later)  # enqueued then (a later time falls back)
    build_everything(tmp_path)
    built = summary_hour_file(tmp_path, "signin_detections", later).parent
    assert list(built.glob("_inputs-*.json")), "built (no detection, so no rows)"
    assert plan(tmp_path) == ((), {})

    write_raw(tmp_path, [signin(3)])  # late, in the first hour: 3 days inside the look-back
    build_hour(tmp_path, HOUR)
    tables, summaries = plan(tmp_path)
    assert tables == ()
    # signin_detections reads 14 days back: both hours; signin_summary only its own hour.
    assert summaries["signin_detections"] == ("2025-03-01-10", "2025-03-04-10")
    assert summaries["signin_summary"] == ("2025-03-01-10",)
    build_everything(tmp_path)
    assert plan(tmp_path) == ((), {})


def test_a_summary_that_reads_another_is_planned_after_it_as_far_as_that_one_reads(
    tmp_path: Path,
) -> None:
    mid, later = HOUR + timedelta(days=10), HOUR + timedelta(days=20)
    for hour in (HOUR, mid, later):
        write_raw(tmp_path, [signin(1, hour)], hour + timedelta(minutes=5))
    build_everything(tmp_path)
    assert plan(tmp_path) == ((), {})

    write_raw(tmp_path, [signin(3)])  # late, in the first hour
    build_hour(tmp_path, HOUR)
    found = plan_builds(tmp_path, FIRST, LAST)
    # signin_detections reads 14 days back: the first hour and mid, not later.
    assert found.summary_partitions["signin_detections"] == ("2025-03-01-10", "2025-03-11-10")
    assert "session_detections" not in found.summary_partitions, "waits for what it reads"
    assert found.waiting_summaries >= 3
    build_ready_summaries(tmp_path)
    # session_detections reads signin_detections 14 days back: later reads mid, rebuilt from
    # the first hour's sign-ins, though no table hour in later's own look-back changed.
    assert plan(tmp_path)[1]["session_detections"] == (
        "2025-03-01-10",
        "2025-03-11-10",
        "2025-03-21-10",
    )
    build_ready_summaries(tmp_path)
    assert plan(tmp_path) == ((), {})


def test_hours_outside_the_partitions_are_reported_not_planned(tmp_path: Path) -> None:
    future = datetime(2999, 1, 1, tzinfo=UTC)
    write_raw(tmp_path, [signin(1), signin(3, datetime(2024, 6, 1, tzinfo=UTC))])
    write_raw(tmp_path, [signin(2, future)], future)  # enqueued then: a clock far ahead
    found = plan_builds(tmp_path, FIRST, LAST)
    assert found.table_hours == ("2025-03-01-10",)
    assert found.out_of_range == ("2024-06-01-00", "2999-01-01-00")
    later = plan_builds(tmp_path, FIRST, future)  # once the hour exists, it is built
    assert later.table_hours == ("2025-03-01-10", "2999-01-01-00")
