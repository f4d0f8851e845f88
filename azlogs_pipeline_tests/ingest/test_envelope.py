"""Envelope parsing: shapes, each known defect, and inputs that must be dead-lettered."""

from __future__ import annotations

import random
import time

import orjson
import pytest

from azlogs_pipeline.ingest.envelope import (
    REPAIR_CONTROL_CHARS,
    REPAIR_SINGLE_QUOTES,
    REPAIR_STRAY_EMPTY_KEY,
    parse_envelope,
    repair_text,
)
from azlogs_pipeline_tests.ingest.samples import audit, sign_in


def _records(body: bytes) -> list[dict[str, object]]:
    envelope = parse_envelope(body)
    assert not envelope.is_dead_letter, envelope.dead_letter_reason
    return [item.record for item in envelope.records]


def test_records_envelope() -> None:
    body = orjson.dumps({"records": [sign_in(), audit()]})
    envelope = parse_envelope(body)
    assert [item.index for item in envelope.records] == [0, 1]
    assert [item.record["category"] for item in envelope.records] == ["SignInLogs", "AuditLogs"]
    assert not any(item.repaired for item in envelope.records)
    assert envelope.repairs == ()


def test_bare_array_and_bare_object() -> None:
    assert len(_records(orjson.dumps([sign_in(), audit()]))) == 2
    assert _records(orjson.dumps(audit())) == [audit()]


def test_records_key_in_any_casing() -> None:
    assert len(_records(orjson.dumps({"Records": [audit()]}))) == 1


def test_empty_records_is_not_an_error() -> None:
    envelope = parse_envelope(b'{"records": []}')
    assert envelope.records == []
    assert not envelope.is_dead_letter


def test_utf8_bom_is_skipped_without_counting_as_repair() -> None:
    envelope = parse_envelope(b"\xef\xbb\xbf" + orjson.dumps({"records": [audit()]}))
    assert len(envelope.records) == 1
    assert not envelope.records[0].repaired


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty_body"),
        (b"  \n\t ", "empty_body"),
        (b"hello, this is not json", "invalid_json"),
        (b'{"records": [{"time": "2025-03-01T10:00:00Z", "categ', "invalid_json"),
        (b"42", "wrong_top_level_type: number"),
        (b'"records"', "wrong_top_level_type: string"),
        (b"null", "wrong_top_level_type: null"),
        (b"true", "wrong_top_level_type: boolean"),
        (b'{"records": {"time": "x"}}', "records_not_array: object"),
        (b'{"records": null}', "records_not_array: null"),
        (b'{"records": [{"a": "\xff\xfe"}]}', "invalid_utf8"),
    ],
)
def test_unusable_bodies_are_dead_lettered_whole(body: bytes, reason: str) -> None:
    envelope = parse_envelope(body)
    assert envelope.records == []
    assert envelope.dead_letter_reason is not None
    assert envelope.dead_letter_reason.startswith(reason)


def test_non_object_items_dead_letter_the_event_but_land_the_objects() -> None:
    body = orjson.dumps({"records": [audit(), "oops", None, sign_in(), [1]]})
    envelope = parse_envelope(body)
    assert [item.index for item in envelope.records] == [0, 3]
    assert envelope.dead_letter_reason is not None
    assert envelope.dead_letter_reason.startswith("non_object_items: 3 of 5")
    assert "1 (string), 2 (null), 4 (array)" in envelope.dead_letter_reason


def test_extra_envelope_keys_dead_letter_the_event_but_land_the_records() -> None:
    envelope = parse_envelope(orjson.dumps({"records": [audit()], "EventProcessedUtcTime": "x"}))
    assert len(envelope.records) == 1
    assert envelope.dead_letter_reason is not None
    assert "extra_envelope_keys" in envelope.dead_letter_reason


def test_single_quoted_keys_and_values_are_repaired() -> None:
    body = (
        b"{'records': [{'category': 'AuditLogs', 'time': '2025-03-01T08:00:00Z', "
        b"'note': 'say \"hi\" and it\\'s fine', \"name\": \"O'Brien\", 'n': 3}]}"
    )
    envelope = parse_envelope(body)
    assert envelope.repairs == (REPAIR_SINGLE_QUOTES,)
    (item,) = envelope.records
    assert item.repaired
    assert item.record == {
        "category": "AuditLogs",
        "time": "2025-03-01T08:00:00Z",
        "note": 'say "hi" and it\'s fine',
        "name": "O'Brien",
        "n": 3,
    }


def test_raw_newlines_and_control_chars_in_strings_are_repaired() -> None:
    body = b'{"records": [{"category": "AuditLogs", "msg": "line1\nline2\r\n\ttab\x01end"}]}'
    envelope = parse_envelope(body)
    assert envelope.repairs == (REPAIR_CONTROL_CHARS,)
    (item,) = envelope.records
    assert item.repaired
    assert item.record["msg"] == "line1\nline2\r\n\ttab\x01end"


def test_apostrophes_inside_valid_strings_are_untouched() -> None:
    body = orjson.dumps({"records": [{"name": "O'Brien's 'quoted'", "category": "AuditLogs"}]})
    (record,) = _records(body)
    assert record["name"] == "O'Brien's 'quoted'"
    assert repair_text(body.decode()) == (body.decode(), ())


def test_stray_empty_key_is_removed_and_only_that_record_marked() -> None:
    body = (
        b'{"records": [{"category": "AuditLogs", "":"", "a": 1},'
        b' {"category": "AuditLogs", "properties": {"x": 1, "": ""}},'
        b' {"category": "AuditLogs", "b": ""}]}'
    )
    envelope = parse_envelope(body)
    assert envelope.repairs == (REPAIR_STRAY_EMPTY_KEY,)
    assert [item.repaired for item in envelope.records] == [True, True, False]
    assert envelope.records[0].record == {"category": "AuditLogs", "a": 1}
    assert envelope.records[1].record["properties"] == {"x": 1}


def test_empty_key_with_a_value_is_kept() -> None:
    (record,) = _records(b'{"category": "AuditLogs", "": "something"}')
    assert record[""] == "something"


def test_several_defects_in_one_body() -> None:
    body = b'{\'records\': [{\'category\': \'AuditLogs\', "msg": "a\nb", "":""}]}'
    envelope = parse_envelope(body)
    assert set(envelope.repairs) == {
        REPAIR_SINGLE_QUOTES,
        REPAIR_CONTROL_CHARS,
        REPAIR_STRAY_EMPTY_KEY,
    }
    assert envelope.records[0].record == {"category": "AuditLogs", "msg": "a\nb"}


def test_truncated_body_with_defects_is_still_a_dead_letter() -> None:
    body = b"{'records': [{'category': 'AuditLogs', \"msg\": \"a\nb"
    envelope = parse_envelope(body)
    assert envelope.records == []
    assert envelope.dead_letter_reason is not None
    assert "repair attempted" in envelope.dead_letter_reason


def test_one_megabyte_body_parses() -> None:
    records = [sign_in(record_id=f"id{i}") for i in range(2000)]
    body = orjson.dumps({"records": records})
    assert len(body) > 1_000_000
    assert len(_records(body)) == 2000


def test_one_megabyte_body_with_raw_newlines_is_repaired_quickly() -> None:
    record = b'{"category": "AuditLogs", "msg": "a\nb", "n": "' + b"x" * 500 + b'"}'
    body = b'{"records": [' + b",".join([record] * 2000) + b"]}"
    assert len(body) > 1_000_000
    started = time.perf_counter()
    envelope = parse_envelope(body)
    assert time.perf_counter() - started < 10
    assert len(envelope.records) == 2000
    assert all(item.repaired for item in envelope.records)


def test_binary_garbage_is_dead_lettered() -> None:
    rng = random.Random(3)
    for size in (1, 17, 4096, 1_000_000):
        body = bytes(rng.getrandbits(8) for _ in range(size))
        envelope = parse_envelope(body)
        assert envelope.records == [], size
        assert envelope.is_dead_letter


def test_repair_is_linear_on_pathological_quotes() -> None:
    started = time.perf_counter()
    envelope = parse_envelope(b"[" + b"'\\'" * 300_000)
    assert envelope.is_dead_letter
    assert time.perf_counter() - started < 10  # ~0.6 s; a quadratic scan would take hours
