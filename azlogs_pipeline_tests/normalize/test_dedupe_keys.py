"""signin_logs finds multi-record sign-ins by the raw lake's `dedupe_key`: raw files written before
that column existed, and keys that disagree with the records, still build the same rows."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from azlogs_pipeline.lake.paths import raw_root, table_hour_file
from azlogs_pipeline.lake.raw_schema import DEDUPE_KEY
from azlogs_pipeline.normalize import build_hour, hour
from azlogs_pipeline_tests.normalize.raw_fixtures import build_rows, write_raw
from azlogs_pipeline_tests.normalize.test_signin_logs import POLICY_A, POLICY_B, interactive

HOUR = datetime(2025, 3, 1, 10, tzinfo=UTC)


def _land(data_dir: Path) -> None:
    """Sign-ins sent once, a Conditional Access split across two drains, a redelivery."""
    first = interactive("c1", appliedConditionalAccessPolicies=[POLICY_B])
    second = copy.deepcopy(interactive("c1", appliedConditionalAccessPolicies=[POLICY_A]))
    second["time"] = "2025-03-01T10:22:00.0000000Z"
    write_raw(data_dir, [interactive(f"s{n}") for n in range(6)] + [first])
    write_raw(data_dir, [second, interactive("s2")], eventhub="second-hub")


def _rewrite_raw(data_dir: Path, change: Any, only_first: bool = False) -> None:
    files = sorted(raw_root(data_dir).rglob("*.parquet"))
    for path in files[:1] if only_first else files:
        pq.write_table(change(pq.read_table(path)), path)


def _without_keys(table: pa.Table) -> pa.Table:
    return table.drop_columns([DEDUPE_KEY])


def _keys_of_record_ids(table: pa.Table) -> pa.Table:
    index = table.schema.get_field_index(DEDUPE_KEY)
    return table.set_column(index, DEDUPE_KEY, table["record_id"])


def _by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in rows}


@pytest.mark.parametrize(
    ("change", "only_first"),
    [(_without_keys, False), (_without_keys, True), (_keys_of_record_ids, False)],
    ids=["raw files without keys", "some raw files without keys", "keys that disagree"],
)
def test_the_same_rows_whatever_the_keys(tmp_path: Path, change: Any, only_first: bool) -> None:
    keyed, other = tmp_path / "keyed", tmp_path / "other"
    _land(keyed)
    _land(other)
    _rewrite_raw(other, change, only_first)
    expected = build_rows(keyed, "signin_logs", HOUR)
    rows = build_rows(other, "signin_logs", HOUR)
    assert len(rows) == len(expected) == 7
    assert _by_id(rows) == _by_id(expected)
    merged = _by_id(rows)["c1"]
    assert merged["applied_ca_policies"] == [POLICY_A, POLICY_B]
    assert (merged["source_records"], _by_id(rows)["s2"]["source_records"]) == (2, 2)


def test_the_drain_stores_the_record_id_as_key_of_a_record_without_id(tmp_path: Path) -> None:
    record = interactive("x")
    del record["properties"]["id"]
    write_raw(tmp_path, [record, interactive("s1")])
    [path] = raw_root(tmp_path).rglob("*.parquet")
    table = pq.read_table(path)
    assert table[DEDUPE_KEY].to_pylist() == [table["record_id"][0].as_py(), "s1"]


def test_two_threads_write_the_same_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(4):  # several raw files: a second thread has something to read
        write_raw(tmp_path, [interactive(f"h{n}-{i}") for i in range(300)], eventhub=f"hub-{n}")
    _land(tmp_path)
    target = table_hour_file(tmp_path, "signin_logs", HOUR)
    built = []
    for budget in ("1024", "2048", "256"):  # one thread, two threads, staged rows
        monkeypatch.setenv("AZLOGS_BUILD_MEMORY_MB", budget)
        build_hour(tmp_path, HOUR, ["signin_logs"])
        built.append(target.read_bytes())
    assert built[0] == built[1] == built[2]


def test_a_large_hour_on_two_threads_has_the_same_rows_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many raw files (two threads read them at once), some sign-ins sent twice (the ranked
    # branch), most once: from PARALLEL_MIN_RECORDS records the hour is built on two threads.
    for n in range(24):
        signins = [interactive(f"f{n}-{i}") for i in range(400)]
        write_raw(tmp_path, [*signins, interactive(f"f{n}-0"), interactive("twice")])
    target = table_hour_file(tmp_path, "signin_logs", HOUR)
    monkeypatch.setenv("AZLOGS_BUILD_MEMORY_MB", "1024")
    built = []
    for threshold in (10**9, 1):  # one thread, then two
        monkeypatch.setattr(hour, "PARALLEL_MIN_RECORDS", threshold)
        build_hour(tmp_path, HOUR, ["signin_logs"])
        built.append(pq.read_table(target))
    assert built[1].num_rows == 24 * 400 + 1
    assert built[1].to_pylist() == built[0].to_pylist()
