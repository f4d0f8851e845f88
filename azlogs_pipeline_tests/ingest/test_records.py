"""Per-record fields: event time (every format, every category), ids, category safety."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from azlogs_pipeline.ingest.records import (
    canonical_json,
    extract_record_fields,
    get_ci,
    parse_event_time,
    record_id,
    safe_category,
)
from azlogs_pipeline_tests.ingest.samples import (
    TENANT,
    TENANT_RESOURCE,
    activity,
    audit,
    pascal_sign_in,
    sign_in,
)

ENQUEUED = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01T10:15:30.12Z", utc(2025, 3, 1, 10, 15, 30, 120000)),
        ("2025-03-01T10:15:30.1234567Z", utc(2025, 3, 1, 10, 15, 30, 123456)),
        ("2025-03-01T10:15:30.123456789Z", utc(2025, 3, 1, 10, 15, 30, 123456)),
        ("2025-03-01T10:15:30.1234567+00:00", utc(2025, 3, 1, 10, 15, 30, 123456)),
        ("2025-03-01T10:15:30-05:00", utc(2025, 3, 1, 15, 15, 30)),
        ("2025-03-01T23:15:30.5+02:00", utc(2025, 3, 1, 21, 15, 30, 500000)),
        ("2025-03-01T10:15:30", utc(2025, 3, 1, 10, 15, 30)),
        ("2025-03-01T10:15:30.1234567", utc(2025, 3, 1, 10, 15, 30, 123456)),
        ("2025-03-01 10:15:30Z", utc(2025, 3, 1, 10, 15, 30)),
        ("2025-03-01T9:59:27.958Z", utc(2025, 3, 1, 9, 59, 27, 958000)),
        ("2025-03-01T9:59:27.9581234567-05:00", utc(2025, 3, 1, 14, 59, 27, 958123)),
        (" 2025-03-01T10:15:30Z ", utc(2025, 3, 1, 10, 15, 30)),
        ("8/22/2022 6:11:52 PM", utc(2022, 8, 22, 18, 11, 52)),
        ("11/14/2025 1:48:53 AM", utc(2025, 11, 14, 1, 48, 53)),
        ("1/9/2007 10:41:00 AM +01:00", utc(2007, 1, 9, 9, 41)),
        ("01/09/2007 09:41:00", utc(2007, 1, 9, 9, 41)),
        ("12/31/2024 12:00:00 AM", utc(2024, 12, 31, 0, 0)),
        ("12/31/2024 12:30:00 PM", utc(2024, 12, 31, 12, 30)),
        ("3/1/2025 5:07 pm", utc(2025, 3, 1, 17, 7)),
    ],
)
def test_time_formats(text: str, expected: datetime) -> None:
    parsed = parse_event_time(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "not a date",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "13/45/2020 1:00:00 PM",
        "1/9/2007 13:41:00 PM",
        "2025-02-30T10:00:00Z",
        1740823200,
        {"time": "2025-03-01T10:00:00Z"},
    ],
)
def test_unusable_times_are_none(value: Any) -> None:
    assert parse_event_time(value) is None


def test_datetime_values_are_normalized_to_utc() -> None:
    assert parse_event_time(datetime(2025, 3, 1, 10)) == utc(2025, 3, 1, 10)
    eastern = timezone(timedelta(hours=-5))
    assert parse_event_time(datetime(2025, 3, 1, 10, tzinfo=eastern)) == utc(2025, 3, 1, 15)


@pytest.mark.parametrize(
    ("record", "expected_time", "source"),
    [
        (
            sign_in("2025-03-01T10:15:30Z"),
            utc(2025, 3, 1, 10, 15, 30),
            "properties.createdDateTime",
        ),
        (audit("2025-03-01T08:00:05Z"), utc(2025, 3, 1, 8, 0, 5), "properties.activityDateTime"),
        (
            {
                "category": "ProvisioningLogs",
                "time": "2025-03-02T00:00:00Z",
                "properties": {"activityDateTime": "8/22/2022 6:11:52 PM"},
            },
            utc(2022, 8, 22, 18, 11, 52),
            "properties.activityDateTime",
        ),
        (
            {
                "category": "UserRiskEvents",
                "time": "2025-03-03T00:00:00Z",
                "properties": {
                    "activityDateTime": "2025-03-01T01:02:03Z",
                    "detectedDateTime": "2025-03-02T01:02:03Z",
                },
            },
            utc(2025, 3, 1, 1, 2, 3),
            "properties.activityDateTime",
        ),
        (
            {
                "category": "RiskyUsers",
                "time": "2025-03-03T00:00:00Z",
                "properties": {"riskLastUpdatedDateTime": "2025-02-27T22:00:00.1234567Z"},
            },
            utc(2025, 2, 27, 22, 0, 0, 123456),
            "properties.riskLastUpdatedDateTime",
        ),
        (activity("2025-03-01T07:30:00Z"), utc(2025, 3, 1, 7, 30), "time"),
        ({"category": "SomethingNew", "time": "2025-03-01T06:00:00Z"}, utc(2025, 3, 1, 6), "time"),
        ({"category": "SomethingNew"}, ENQUEUED, "enqueued_time"),
        ({"category": "SignInLogs", "time": "garbage"}, ENQUEUED, "enqueued_time"),
        (
            sign_in("0001-01-01T00:00:00Z", time="2025-03-01T10:21:00Z"),
            utc(2025, 3, 1, 10, 21),
            "time",
        ),
        (
            {"category": "AuditLogs", "TimeGenerated": "2025-03-01T05:00:00Z"},
            utc(2025, 3, 1, 5),
            "timeGenerated",
        ),
    ],
)
def test_event_time_per_category(
    record: dict[str, Any], expected_time: datetime, source: str
) -> None:
    fields = extract_record_fields(record, ENQUEUED)
    assert (fields.event_time, fields.event_time_source) == (expected_time, source)


def test_pascal_case_record_without_time() -> None:
    fields = extract_record_fields(pascal_sign_in(), ENQUEUED)
    assert fields.category == "ServicePrincipalSignInLogs"
    assert fields.event_time == utc(2025, 3, 1, 11, 59, 59, 999999)
    assert fields.event_time_source == "createdDateTime"
    assert fields.tenant_id == TENANT
    assert fields.resource_id == TENANT_RESOURCE.lower()
    assert fields.operation_name == "Sign-in activity"


def test_keys_in_any_casing_and_properties_as_json_string() -> None:
    record = {
        "CATEGORY": "signinlogs",
        "Time": "2025-03-01T10:21:00Z",
        "TENANTID": TENANT,
        "resourceID": TENANT_RESOURCE,
        "OPERATIONNAME": "Sign-in activity",
        "Properties": orjson.dumps({"CreatedDateTime": "2025-03-01T10:15:30Z"}).decode(),
    }
    fields = extract_record_fields(record, ENQUEUED)
    assert fields.category == "SignInLogs"
    assert fields.event_time == utc(2025, 3, 1, 10, 15, 30)
    assert fields.event_time_source == "properties.createdDateTime"
    assert (fields.tenant_id, fields.resource_id) == (TENANT, TENANT_RESOURCE)
    assert fields.operation_name == "Sign-in activity"


def test_get_ci_prefers_exact_spelling_and_skips_nulls() -> None:
    assert get_ci({"Level": 4, "level": None}, "level") == 4
    assert get_ci({"level": 3, "Level": 4}, "level") == 3
    assert get_ci({"a": 1}, "level") is None


def test_tenant_from_resource_id_and_operation_name_object() -> None:
    record = {
        "category": "AuditLogs",
        "resourceId": TENANT_RESOURCE,
        "operationName": {"value": "Update user", "localizedValue": "Update user"},
    }
    fields = extract_record_fields(record, ENQUEUED)
    assert fields.tenant_id == TENANT
    assert fields.operation_name == "Update user"
    assert extract_record_fields({"category": "Administrative"}, ENQUEUED).tenant_id is None


@pytest.mark.parametrize(
    ("variant"),
    [
        b'{"category":"AuditLogs","properties":{"b":[1,{"y":2,"x":"\\u00e9"}],"a":null},"n":1.5}',
        b'{ "n" : 1.5 , "properties" : { "a" : null , "b" : [ 1 , { "x" : "\xc3\xa9" , "y" : 2 } ] },'
        b' "category" : "AuditLogs" }',
        b'{"properties":{"a":null,"b":[1,{"x":"\\u00E9","y":2}]},\n"category":"Audit\\u004cogs",'
        b'"n":1.50}',
    ],
)
def test_record_id_is_stable_across_serializations(variant: bytes) -> None:
    reference = {
        "category": "AuditLogs",
        "n": 1.5,
        "properties": {"a": None, "b": [1, {"x": "é", "y": 2}]},
    }
    assert record_id(orjson.loads(variant)) == record_id(reference)
    assert canonical_json(orjson.loads(variant)) == (
        '{"category":"AuditLogs","n":1.5,"properties":{"a":null,"b":[1,{"x":"é","y":2}]}}'.encode()
    )


def test_record_id_differs_for_different_records() -> None:
    base = sign_in()
    ids = {
        record_id(base),
        record_id(sign_in(record_id="a2")),
        record_id({**base, "resultType": 50126}),
        record_id({**base, "properties": {**base["properties"], "ipAddress": "203.0.113.8"}}),
        record_id([base]),
    }
    assert len(ids) == 5
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids)


def test_record_fields_carry_the_canonical_text_they_hash() -> None:
    fields = extract_record_fields(sign_in(), ENQUEUED)
    assert fields.canonical_json == canonical_json(sign_in())
    assert fields.record_id == record_id(sign_in())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("SignInLogs", ("SignInLogs", True)),
        ("signinlogs", ("SignInLogs", True)),
        ("NONINTERACTIVEUSERSIGNINLOGS", ("NonInteractiveUserSignInLogs", True)),
        ("Brand_New-Category2", ("Brand_New-Category2", True)),
        ("../../etc", ("_invalid", False)),
        ("Sign In Logs", ("_invalid", False)),
        ("a/b", ("_invalid", False)),
        ("a\\b", ("_invalid", False)),
        (".hidden", ("_invalid", False)),
        ("Catégorie", ("_invalid", False)),
        ("x" * 65, ("_invalid", False)),
        ("x" * 64, ("x" * 64, True)),
        ("_invalid", ("__invalid", True)),
        ("__invalid", ("___invalid", True)),
        ("_" + "x" * 63, ("_invalid", False)),
        ("", ("_invalid", False)),
        (None, ("_invalid", False)),
        (42, ("_invalid", False)),
        (["SignInLogs"], ("_invalid", False)),
    ],
)
def test_safe_category(value: Any, expected: tuple[str, bool]) -> None:
    assert safe_category(value) == expected


def test_record_with_bad_category_gets_the_reserved_one() -> None:
    fields = extract_record_fields(
        {"category": "../ Sign Ins", "time": "2025-03-01T00:00:00Z"}, ENQUEUED
    )
    assert (fields.category, fields.category_valid) == ("_invalid", False)
    fields = extract_record_fields({"time": "2025-03-01T00:00:00Z"}, ENQUEUED)
    assert (fields.category, fields.category_valid) == ("_invalid", False)


def test_a_time_more_than_a_day_after_enqueueing_falls_back_to_the_enqueued_time() -> None:
    from azlogs_pipeline.ingest.records import resolve_event_time

    enqueued = datetime(2026, 11, 20, 10, tzinfo=UTC)
    soon = {"properties": {"createdDateTime": "2026-11-21T09:59:00Z"}}
    later = {"properties": {"createdDateTime": "2026-11-21T10:01:00Z"}}
    props = "properties"
    assert resolve_event_time(soon, soon[props], "SignInLogs", enqueued) == (
        datetime(2026, 11, 21, 9, 59, tzinfo=UTC),
        "properties.createdDateTime",
    )
    assert resolve_event_time(later, later[props], "SignInLogs", enqueued) == (
        enqueued,
        "enqueued_time (properties.createdDateTime in the future)",
    )


def test_a_senders_invalid_category_is_kept_apart_from_the_marker() -> None:
    sent = extract_record_fields({"category": "_invalid", "time": "2025-03-01T00:00:00Z"}, ENQUEUED)
    missing = extract_record_fields({"time": "2025-03-01T00:00:00Z"}, ENQUEUED)
    assert (sent.category, sent.category_valid) == ("__invalid", True)
    assert (missing.category, missing.category_valid) == ("_invalid", False)


@pytest.mark.parametrize(
    "number",
    ["18446744073709551616", "123456789012345678901234567890", "-9223372036854775809"],
)
def test_integers_beyond_64_bits_stay_exact_in_the_canonical_form(number: str) -> None:
    from azlogs_pipeline.ingest.envelope import parse_envelope

    def record_of(digits: str) -> Any:
        body = f'{{"records": [{{"category": "AuditLogs", "n": {digits}, "m": [{digits}]}}]}}'
        (item,) = parse_envelope(body.encode()).records
        return item.record

    last = int(number[-1])
    neighbour = number[:-1] + str(last + 1 if last < 9 else last - 1)
    record = record_of(number)
    assert (
        canonical_json(record) == f'{{"category":"AuditLogs","m":[{number}],"n":{number}}}'.encode()
    )
    assert record_id(record) != record_id(record_of(neighbour))


def test_integers_within_64_bits_keep_the_ids_they_always_had() -> None:
    from azlogs_pipeline.ingest.envelope import parse_envelope

    body = b'{"records": [{"a": 18446744073709551615, "b": -9223372036854775808, "s": "1234567890123456789012"}]}'
    (item,) = parse_envelope(body).records
    assert canonical_json(item.record) == orjson.dumps(
        orjson.loads(body)["records"][0], option=orjson.OPT_SORT_KEYS
    )


def test_source_id_is_the_id_the_table_sql_reads() -> None:
    signin = sign_in()
    assert extract_record_fields(signin, ENQUEUED).source_id == signin["properties"]["id"]
    pascal = {**pascal_sign_in(), "Id": "p1"}
    assert extract_record_fields(pascal, ENQUEUED).source_id == "p1"
    encoded = {**signin, "properties": orjson.dumps({"id": 42}).decode()}
    assert extract_record_fields(encoded, ENQUEUED).source_id == "42"
    assert extract_record_fields({"category": "Administrative"}, ENQUEUED).source_id is None
