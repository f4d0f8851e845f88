"""RawBatchWriter: layout, schema, accounting, idempotence and crash re-drains."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest

from azlogs_pipeline.ingest import batch as batch_module
from azlogs_pipeline.ingest import parsing as parsing_module
from azlogs_pipeline.ingest.batch import RawBatchWriter
from azlogs_pipeline.ingest.records import record_id
from azlogs_pipeline.lake.raw_schema import DEADLETTER_SCHEMA, RAW_RECORDS_SCHEMA
from azlogs_pipeline_tests.ingest.samples import activity, audit, pascal_sign_in, sign_in

HUB, PARTITION = "insights-logs-signinlogs", "2"
ENQUEUED = datetime(2025, 3, 1, 12, 5, tzinfo=UTC)
INGESTED = datetime(2025, 3, 1, 12, 6, tzinfo=UTC)


def _writer(
    data_dir: Path, max_records: int = 50_000, max_bytes: int = 64 * 2**20
) -> RawBatchWriter:
    return RawBatchWriter(
        data_dir,
        HUB,
        PARTITION,
        max_records=max_records,
        max_bytes=max_bytes,
        clock=lambda: INGESTED,
    )


def _add(writer: RawBatchWriter, seq: int, body: bytes) -> None:
    writer.add_event(body, sequence_number=seq, offset=str(seq * 1000), enqueued_time=ENQUEUED)


def _files(data_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file())


def _lake_ids(data_dir: Path) -> list[str]:
    ids: list[str] = []
    for path in (data_dir / "lake/raw").rglob("*.parquet"):
        ids.extend(pq.read_table(path, columns=["record_id"])["record_id"].to_pylist())
    return ids


def test_flush_writes_the_layout_with_the_exact_schema(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    _add(writer, 10, orjson.dumps({"records": [sign_in("2025-03-01T10:15:30Z"), audit()]}))
    _add(writer, 11, orjson.dumps({"records": [sign_in("2025-03-01T11:00:00Z", record_id="b")]}))
    _add(writer, 12, b"not json at all")
    summary = writer.flush()

    raw = "lake/raw/category={}/date=2025-03-01/hour={}/insights-logs-signinlogs-2-10-12.parquet"
    assert _files(tmp_path) == [
        "lake/deadletter/date=2025-03-01/hour=12/insights-logs-signinlogs-2-10-12.parquet",
        raw.format("AuditLogs", "08"),
        raw.format("SignInLogs", "10"),
        raw.format("SignInLogs", "11"),
    ]
    table = pq.read_table(tmp_path / raw.format("SignInLogs", "10"))
    assert table.schema.remove_metadata() == RAW_RECORDS_SCHEMA.remove_metadata()
    assert table.schema.metadata[b"azlogs.table"] == b"raw_records"
    row = table.to_pylist()[0]
    assert row["record_id"] == record_id(sign_in("2025-03-01T10:15:30Z"))
    assert orjson.loads(row["record"]) == sign_in("2025-03-01T10:15:30Z")
    assert row["event_time"] == datetime(2025, 3, 1, 10, 15, 30, tzinfo=UTC)
    assert row["event_time_source"] == "properties.createdDateTime"
    assert (row["eventhub"], row["partition_id"], row["sequence_number"]) == (HUB, PARTITION, 10)
    assert (row["offset"], row["enqueued_time"], row["record_index"]) == ("10000", ENQUEUED, 0)
    assert (row["repaired"], row["ingested_at"]) == (False, INGESTED)
    assert row["operation_name"] == "Sign-in activity"

    dead = pq.read_table(tmp_path / _files(tmp_path)[0])
    assert dead.schema.remove_metadata() == DEADLETTER_SCHEMA.remove_metadata()
    (letter,) = dead.to_pylist()
    assert letter["body"] == b"not json at all"
    assert letter["body_size"] == 15
    assert letter["reason"].startswith("invalid_json")
    assert (letter["sequence_number"], letter["offset"]) == (12, "12000")

    assert summary.events == 3
    assert summary.records == 3
    assert summary.dead_letters == 1
    assert summary.records_per_category == {"AuditLogs": 1, "SignInLogs": 2}
    assert summary.records_per_time_source == {
        "properties.activityDateTime": 1,
        "properties.createdDateTime": 2,
    }
    assert summary.hours_touched == ("2025-03-01-08", "2025-03-01-10", "2025-03-01-11")
    assert (summary.first_sequence_number, summary.last_sequence_number) == (10, 12)
    assert (summary.last_offset, summary.last_enqueued_time) == ("12000", ENQUEUED)
    assert summary.bytes_written == sum(p.stat().st_size for p in summary.files)
    assert len(summary.files) == 4
    assert writer.pending_events == 0


def test_every_event_is_landed_or_dead_lettered_with_its_bytes(tmp_path: Path) -> None:
    rng = random.Random(11)
    good = orjson.dumps({"records": [sign_in(), audit()]})
    bodies = {
        "valid": good,
        "non-json": b"<html>502 Bad Gateway</html>",
        "truncated": good[: len(good) // 2],
        "single-quotes": b"{'records': [{'category': 'AuditLogs', 'time': '2025-03-01T01:00:00Z'}]}",
        "stray-empty-key": b'{"records": [{"category": "AuditLogs", "":"", "time": "x"}]}',
        "raw-newline": b'{"records": [{"category": "AuditLogs", "msg": "a\nb"}]}',
        "wrong-top-level": b"[[1, 2], 3]",
        "scalar": b"3.14",
        "empty-records": b'{"records": []}',
        "one-megabyte": orjson.dumps({"records": [sign_in(record_id=str(i)) for i in range(2500)]}),
        "binary-garbage": bytes(rng.getrandbits(8) for _ in range(5000)),
        "invalid-utf8": b'{"records": [{"category": "AuditLogs", "x": "\xc3\x28"}]}',
        "bad-category": orjson.dumps({"records": [{"category": "../../ Sign Ins", "time": "1"}]}),
        "empty": b"",
    }
    writer = _writer(tmp_path)
    outcomes = {}
    for seq, (name, body) in enumerate(bodies.items()):
        outcomes[name] = writer.add_event(
            body, sequence_number=seq, offset=None, enqueued_time=ENQUEUED
        )
    summary = writer.flush()

    landed = {name for name, outcome in outcomes.items() if outcome.records}
    dead = {name for name, outcome in outcomes.items() if outcome.dead_letter_reason}
    assert landed == {
        "valid",
        "single-quotes",
        "stray-empty-key",
        "raw-newline",
        "one-megabyte",
        "bad-category",
    }
    assert dead == {
        "non-json",
        "truncated",
        "wrong-top-level",
        "scalar",
        "binary-garbage",
        "invalid-utf8",
        "empty",
    }
    assert outcomes["empty-records"].records == 0
    assert outcomes["empty-records"].dead_letter_reason is None
    assert summary.repaired == 3
    assert summary.invalid_category == 1
    assert summary.records == 2 + 1 + 1 + 1 + 2500 + 1

    letters = []
    for path in (tmp_path / "lake/deadletter").rglob("*.parquet"):
        letters.extend(pq.read_table(path).to_pylist())
    assert {row["body"] for row in letters} == {bodies[name] for name in dead}

    invalid_dir = tmp_path / "lake/raw/category=_invalid"
    assert len(list(invalid_dir.rglob("*.parquet"))) == 1
    lake = (tmp_path / "lake").resolve()
    assert all(lake in p.resolve().parents for p in tmp_path.rglob("*") if p.is_file())


def test_repaired_records_are_flagged_in_the_lake(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    _add(writer, 0, b'{"records": [{"category": "AuditLogs", "msg": "a\nb"}, {"category": "X"}]}')
    writer.flush()
    (path,) = (tmp_path / "lake/raw/category=AuditLogs").rglob("*.parquet")
    assert pq.read_table(path, columns=["repaired"])["repaired"].to_pylist() == [True]


def test_reflush_of_the_same_events_overwrites_the_same_files(tmp_path: Path) -> None:
    bodies = [
        orjson.dumps({"records": [sign_in(record_id=str(i)), activity(f"2025-03-01T07:3{i}:00Z")]})
        for i in range(5)
    ]
    for _ in range(2):
        writer = _writer(tmp_path)
        for seq, body in enumerate(bodies, start=100):
            _add(writer, seq, body)
        writer.flush()
    assert len(_files(tmp_path)) == 2
    ids = _lake_ids(tmp_path)
    assert len(ids) == 10 == len(set(ids))


def test_redrain_with_other_batch_boundaries_loses_nothing(tmp_path: Path) -> None:
    bodies = [orjson.dumps([sign_in(record_id=str(i)), audit()]) for i in range(20)]
    published = {record_id(r) for body in bodies for r in orjson.loads(body)}

    first = _writer(tmp_path)
    for seq, body in enumerate(bodies[:12]):
        _add(first, seq, body)
    first.flush()  # crash here: files written, checkpoint never moved

    again = _writer(tmp_path, max_records=7)
    for seq, body in enumerate(bodies):
        _add(again, seq, body)
        if again.is_full:
            again.flush()
    again.flush()
    assert set(_lake_ids(tmp_path)) == published


def test_flush_failure_keeps_the_buffer_for_a_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = _writer(tmp_path)
    _add(writer, 0, orjson.dumps([sign_in(), pascal_sign_in()]))
    real = batch_module.write_parquet_atomic
    calls = iter([True])

    def fail_once(*args: object, **kwargs: object) -> int:
        if next(calls, False):
            raise OSError("disk full")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch_module, "write_parquet_atomic", fail_once)
    with pytest.raises(OSError):
        writer.flush()
    assert writer.pending_records == 2
    assert writer.flush().records == 2
    assert len(_lake_ids(tmp_path)) == 2


def test_bounds_and_ordering(tmp_path: Path) -> None:
    writer = _writer(tmp_path, max_records=3, max_bytes=10**9)
    _add(writer, 0, orjson.dumps([audit(), audit()]))
    assert not writer.is_full
    _add(writer, 1, orjson.dumps([audit()]))
    assert writer.is_full
    with pytest.raises(ValueError, match="increasing"):
        _add(writer, 1, orjson.dumps([audit()]))

    small = _writer(tmp_path, max_bytes=2000)
    _add(small, 0, orjson.dumps([sign_in()]))
    assert not small.is_full
    _add(small, 1, orjson.dumps([sign_in(record_id=str(i)) for i in range(5)]))
    assert small.is_full and small.pending_bytes >= 2000


def test_empty_flush_writes_nothing(tmp_path: Path) -> None:
    summary = _writer(tmp_path).flush()
    assert (summary.events, summary.records, summary.files) == (0, 0, ())
    assert not (tmp_path / "lake").exists()


def test_unsafe_hub_name_stays_in_the_lake(tmp_path: Path) -> None:
    writer = RawBatchWriter(tmp_path, "../../outside/hub", "../0", clock=lambda: INGESTED)
    _add(writer, 0, orjson.dumps([audit()]))
    _add(writer, 1, b"garbage")
    (raw, dead) = sorted(writer.flush().files, key=str)[::-1]
    lake = (tmp_path / "lake").resolve()
    assert lake in raw.resolve().parents and lake in dead.resolve().parents
    assert pq.read_table(raw)["eventhub"].to_pylist() == ["../../outside/hub"]


def test_duckdb_reads_the_raw_lake_with_hive_partitions(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    _add(writer, 0, orjson.dumps([sign_in(), audit(), activity()]))
    writer.flush()
    pattern = str(tmp_path / "lake/raw/**/*.parquet")
    rows = duckdb.execute(
        f"select category, date, hour, count(*) from read_parquet('{pattern}', "
        "hive_partitioning = true) group by all order by all"
    ).fetchall()
    assert [(c, str(d), int(h), n) for c, d, h, n in rows] == [
        ("Administrative", "2025-03-01", 7, 1),
        ("AuditLogs", "2025-03-01", 8, 1),
        ("SignInLogs", "2025-03-01", 10, 1),
    ]


def _events(count: int) -> Iterator[bytes]:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    for i in range(count):
        created = (start + timedelta(minutes=7 * i)).isoformat()
        yield orjson.dumps({"records": [sign_in(created, record_id=str(i))]})


def test_many_flushes_touch_each_hour_once_per_batch(tmp_path: Path) -> None:
    writer = _writer(tmp_path, max_records=10)
    hours: set[str] = set()
    for seq, body in enumerate(_events(40)):
        _add(writer, seq, body)
        if writer.is_full:
            hours.update(writer.flush().hours_touched)
    hours.update(writer.flush().hours_touched)
    assert len(_lake_ids(tmp_path)) == 40
    assert sorted(hours)[0] == "2025-03-01-00" and sorted(hours)[-1] == "2025-03-01-04"
    assert len(hours) == 5


def test_a_record_that_fails_dead_letters_its_event_and_the_rest_land(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = parsing_module.extract_record_fields

    def picky(record: dict[str, object], enqueued: datetime, *rest: bool) -> object:
        if record.get("poison"):
            raise RuntimeError("unexpected")
        return real(record, enqueued, *rest)

    monkeypatch.setattr(parsing_module, "extract_record_fields", picky)
    writer = _writer(tmp_path)
    body = orjson.dumps([audit(), {**audit(), "poison": True}, sign_in()])
    outcome = writer.add_event(body, sequence_number=0, offset="0", enqueued_time=ENQUEUED)
    assert outcome.records == 2
    assert outcome.dead_letter_reason == "failed_records: 1 (RuntimeError)"
    summary = writer.flush()
    assert (summary.records, summary.dead_letters) == (2, 1)
    letters = pq.read_table(next((tmp_path / "lake/deadletter").rglob("*.parquet")))
    assert letters["body"].to_pylist() == [body]
