"""Many hours built a range at a time (`normalize/ranges.py`: one query per table for the small
hours) write the same table-hour files and manifests, byte for byte, as each hour built on its own
(`hour.build_hour`)."""

from __future__ import annotations

import copy
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from azlogs_pipeline.ingest.batch import RawBatchWriter
from azlogs_pipeline.lake.paths import raw_hour_dir, tables_root
from azlogs_pipeline.lake.raw_schema import DEDUPE_KEY
from azlogs_pipeline.local.generator import GeneratorOptions, generate
from azlogs_pipeline.normalize import hour as hour_module
from azlogs_pipeline.normalize import ranges
from azlogs_pipeline.normalize.hour import build_hour
from azlogs_pipeline.normalize.ranges import build_hours
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw
from azlogs_pipeline_tests.normalize.test_signin_logs import POLICY_A, POLICY_B, interactive

HOUR = datetime(2025, 3, 1, 10, tzinfo=UTC)
HOURS = [HOUR + timedelta(hours=h) for h in range(4)]


def _files(data_dir: Path) -> dict[str, bytes]:
    root = tables_root(data_dir)
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _signin(signin_id: str, hour: int, minute: int, **props: Any) -> dict[str, Any]:
    record = interactive(signin_id, **props)
    record["properties"]["createdDateTime"] = f"2025-03-01T{10 + hour:02d}:{minute:02d}:00Z"
    return record


def _audit(audit_id: str, hour: int, minute: int) -> dict[str, Any]:
    return {
        "time": f"2025-03-01T{10 + hour:02d}:{minute:02d}:00Z",
        "category": "AuditLogs",
        "operationName": "Add member to group",
        "properties": {
            "id": audit_id,
            "activityDateTime": f"2025-03-01T{10 + hour:02d}:{minute:02d}:00Z",
            "activityDisplayName": "Add member to group",
            "category": "GroupManagement",
            "result": "success",
        },
    }


def _land(data_dir: Path) -> None:
    """Four hours: sign-ins sent once (raw order not by time), a Conditional Access split over
    two hubs, a redelivered file's records, audit records; hour 3 of sign-ins only."""
    split = _signin("c1", 0, 20, appliedConditionalAccessPolicies=[POLICY_B])
    other = copy.deepcopy(_signin("c1", 0, 20, appliedConditionalAccessPolicies=[POLICY_A]))
    other["time"] = "2025-03-01T10:22:00.0000000Z"
    first = [_signin(f"s{n}", n % 3, 50 - n) for n in range(9)] + [split]
    write_raw(data_dir, first + [_audit(f"a{n}", n % 3, n) for n in range(5)])
    write_raw(data_dir, [other, _signin("s4", 1, 46), _signin("t1", 3, 5)], eventhub="second-hub")
    write_raw(data_dir, [_signin("s7", 1, 43), _audit("a1", 1, 1)])  # a redelivery


def _both(tmp_path: Path) -> tuple[Path, Path]:
    ranged, alone = tmp_path / "ranged", tmp_path / "alone"
    _land(ranged)
    shutil.copytree(ranged, alone)
    return ranged, alone


def _build_both(ranged: Path, alone: Path) -> None:
    results = build_hours(ranged, HOURS)
    singles = [build_hour(alone, hour) for hour in HOURS]
    assert [{n: r.rows for n, r in hour.items()} for hour in results] == [
        {n: r.rows for n, r in hour.items()} for hour in singles
    ]


def test_a_range_writes_what_each_hour_built_alone_writes(tmp_path: Path) -> None:
    ranged, alone = _both(tmp_path)
    results = build_hours(ranged, HOURS)
    singles = [build_hour(alone, hour) for hour in HOURS]
    assert _files(ranged) == _files(alone)
    assert any(name.startswith("audit_logs/") for name in _files(ranged))
    for got, expected in zip(results, singles, strict=True):
        for name, result in got.items():
            assert result.write_span[0] <= result.write_span[1]
            left, right = (
                {k: v for k, v in vars_of(r).items() if k not in ("write_span", "path")}
                for r in (result, expected[name])
            )
            assert left == right, name
            assert (result.path is None) == (expected[name].path is None)
    first = pq.read_table(results[0]["signin_logs"].path).column("id").to_pylist()
    assert first == ["s0", "s3", "s6", "c1"]  # raw order, then the multi-record sign-in


def vars_of(result: hour_module.HourResult) -> dict[str, Any]:
    return {name: getattr(result, name) for name in result.__slots__}


def _count_alone(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(table, hour of day) of every table hour built alone from now on."""
    alone: list[tuple[str, int]] = []
    original = hour_module._build_table

    def counted(*args: Any) -> Any:
        alone.append((args[2].name, args[3].hour))
        return original(*args)

    monkeypatch.setattr(hour_module, "_build_table", counted)
    return alone


def test_a_range_is_read_by_one_query_per_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranged, _ = _both(tmp_path)
    alone = _count_alone(monkeypatch)
    build_hours(ranged, HOURS)
    assert alone == []  # every table of these small hours in a range (no hour alone)


def test_hours_that_cannot_share_a_query_are_built_alone_and_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raw files with keys that disagree with the records (ids repeat), raw files without keys,
    an hour whose raw files are gone: the same files, the first and last built alone."""
    ranged, alone = _both(tmp_path)
    for data_dir in (ranged, alone):
        build_hour(data_dir, HOURS[2])  # then its raw files go: its table files must go too
        for path in raw_hour_dir(data_dir, "SignInLogs", HOURS[2]).glob("*.parquet"):
            path.unlink()
        for path in sorted(raw_hour_dir(data_dir, "SignInLogs", HOURS[1]).glob("*.parquet"))[:1]:
            table = pq.read_table(path)
            index = table.schema.get_field_index(DEDUPE_KEY)
            pq.write_table(table.set_column(index, DEDUPE_KEY, table["record_id"]), path)
        for path in raw_hour_dir(data_dir, "SignInLogs", HOURS[0]).glob("*.parquet"):
            pq.write_table(pq.read_table(path).drop_columns([DEDUPE_KEY]), path)
    built_alone = _count_alone(monkeypatch)
    _build_both(ranged, alone)
    assert _files(ranged) == _files(alone)
    assert not any(
        name.startswith("signin_logs/date=2025-03-01/hour=12/part") for name in _files(ranged)
    )
    # Alone: the hour with no raw file left, then (after the range) the hour whose ids repeat.
    assert built_alone[:2] == [("signin_logs", 12), ("signin_logs", 11)]


def test_hours_of_more_rows_than_a_row_group_are_built_alone_and_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranged, alone = _both(tmp_path)
    monkeypatch.setattr(ranges, "ROW_GROUP_ROWS", 2)
    monkeypatch.setattr(hour_module, "ROW_GROUP_ROWS", 2)
    built_alone = _count_alone(monkeypatch)
    _build_both(ranged, alone)
    assert _files(ranged) == _files(alone)
    assert ("signin_logs", 10) in built_alone[: len(built_alone) // 2]


def test_a_range_under_more_threads_and_a_small_budget_writes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for budget in ("2048", "64"):
        monkeypatch.setenv("AZLOGS_BUILD_MEMORY_MB", budget)
        ranged, alone = _both(tmp_path / budget)
        _build_both(ranged, alone)
        assert _files(ranged) == _files(alone), budget


@pytest.mark.slow  # a generated lake
def test_generated_hours_built_a_range_at_a_time_are_the_same(tmp_path: Path) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    hours = 30
    generated = generate(
        GeneratorOptions(records=900, hours=hours, seed=11, start=start, duplicate_rate=0.05)
    )
    enqueued = start + timedelta(hours=hours)
    ranged = tmp_path / "ranged"
    writer = RawBatchWriter(ranged, "adlogs", "0", clock=lambda: enqueued)
    for seq, body in enumerate(generated.bodies):  # three flushes, and a redelivery
        writer.add_event(body, sequence_number=seq, offset=str(seq), enqueued_time=enqueued)
        if seq % 300 == 299:
            writer.flush()
    for seq, body in enumerate(generated.bodies[:100], start=len(generated.bodies)):
        writer.add_event(body, sequence_number=seq, offset=str(seq), enqueued_time=enqueued)
    writer.flush()
    alone = tmp_path / "alone"
    shutil.copytree(ranged, alone)
    moments = [start + timedelta(hours=h) for h in range(hours)]
    build_hours(ranged, moments)
    for moment in moments:
        build_hour(alone, moment)
    files = _files(ranged)
    assert len([name for name in files if name.endswith(".parquet")]) > 3 * hours
    assert files == _files(alone)
