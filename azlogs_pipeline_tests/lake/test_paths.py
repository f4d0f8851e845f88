"""Lake path layout and path safety."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from azlogs_pipeline.lake.paths import (
    batch_file_name,
    deadletter_file_path,
    hour_key,
    is_safe_segment,
    lake_root,
    raw_file_path,
    safe_name,
)

WHEN = datetime(2025, 3, 1, 9, 59, 27, 958000, tzinfo=UTC)


def test_raw_layout(tmp_path: Path) -> None:
    path = raw_file_path(tmp_path, "SignInLogs", WHEN, "insights-logs-signinlogs", "3", 100, 199)
    assert path == (
        tmp_path
        / "lake/raw/category=SignInLogs/date=2025-03-01/hour=09"
        / "insights-logs-signinlogs-3-100-199.parquet"
    )


def test_deadletter_layout(tmp_path: Path) -> None:
    path = deadletter_file_path(tmp_path, WHEN, "adlogs", "0", 5, 5)
    assert path == tmp_path / "lake/deadletter/date=2025-03-01/hour=09/adlogs-0-5-5.parquet"


def test_hours_are_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert hour_key(datetime(2025, 3, 1, 22, 30, tzinfo=eastern)) == "2025-03-02-03"
    assert hour_key(datetime(2025, 3, 1, 22, 30)) == "2025-03-01-22"


@pytest.mark.parametrize(
    "hub",
    ["../../etc", "..", ".", "a/b", "a\\b", "/abs/path", "hub name", "", "x" * 300, "hub\x00", "é"],
)
def test_unsafe_hub_names_stay_inside_the_lake(tmp_path: Path, hub: str) -> None:
    path = raw_file_path(tmp_path, "AuditLogs", WHEN, hub, "../0", 1, 2)
    hour_dir = tmp_path / "lake/raw/category=AuditLogs/date=2025-03-01/hour=09"
    assert path.parent == hour_dir
    assert path.resolve().parent == hour_dir.resolve()
    assert "/" not in path.name and "\\" not in path.name and not path.name.startswith(".")
    assert len(path.name) < 200


def test_different_unsafe_names_never_collide() -> None:
    names = {safe_name(name) for name in ["a/b", "a_b", "a\\b", "a b", "a:b"]}
    assert len(names) == 5
    assert safe_name("insights-logs-auditlogs") == "insights-logs-auditlogs"
    assert safe_name("hub.v2") == "hub.v2"


@pytest.mark.parametrize("category", ["../x", "a/b", "", "_invalid/..", "x" * 65, "a b"])
def test_unsafe_category_is_refused(tmp_path: Path, category: str) -> None:
    assert not is_safe_segment(category)
    with pytest.raises(ValueError, match="not safe"):
        raw_file_path(tmp_path, category, WHEN, "hub", "0", 1, 2)


def test_bad_sequence_range_is_refused() -> None:
    with pytest.raises(ValueError):
        batch_file_name("hub", "0", 5, 4)
    with pytest.raises(ValueError):
        batch_file_name("hub", "0", -1, 4)


def test_lake_root(tmp_path: Path) -> None:
    assert lake_root(tmp_path) == tmp_path / "lake"
