"""The synthetic log generator: shape of every category, quirks, scenarios and their ground truth,
background kept clear of the detection thresholds, determinism, NDJSON round trip."""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from azlogs_pipeline.local.generator import (
    CATEGORIES,
    DEFECT_KINDS,
    IMPOSSIBLE_SPEED_KMH,
    SCENARIO_KINDS,
    USER_SIGNIN_CATEGORIES,
    Generated,
    GeneratorOptions,
    generate,
    read_ndjson,
    truth_path,
    write_ndjson,
    write_ndjson_stream,
)

START = datetime(2024, 3, 4, tzinfo=UTC)
OPTS = GeneratorOptions(records=8_000, hours=24, seed=11, start=START, malformed_rate=0.02)
MAX_BODY = 1_000_000
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LEGACY = {
    "IMAP4",
    "POP3",
    "Authenticated SMTP",
    "Exchange ActiveSync",
    "Other clients",
    "Exchange Web Services",
    "MAPI Over HTTP",
    "Offline Address Book",
}
MODERN = {"Browser", "Mobile Apps and Desktop clients"}

COMMON = {
    "time",
    "resourceId",
    "operationName",
    "category",
    "tenantId",
    "correlationId",
    "properties",
}
USER_SIGNIN_FIELDS = {
    "id",
    "createdDateTime",
    "userId",
    "userPrincipalName",
    "userDisplayName",
    "userType",
    "appId",
    "appDisplayName",
    "resourceDisplayName",
    "resourceId",
    "servicePrincipalId",
    "ipAddress",
    "autonomousSystemNumber",
    "clientAppUsed",
    "userAgent",
    "isInteractive",
    "conditionalAccessStatus",
    "authenticationRequirement",
    "status",
    "location",
    "deviceDetail",
    "riskLevelAggregated",
    "riskLevelDuringSignIn",
    "riskState",
    "riskDetail",
    "riskEventTypes_v2",
    "riskEventTypes",
    "appliedConditionalAccessPolicies",
    "authenticationDetails",
    "tokenIssuerType",
    "crossTenantAccessType",
    "homeTenantId",
    "resourceTenantId",
    "incomingTokenType",
    "authenticationProtocol",
    "uniqueTokenIdentifier",
    "originalRequestId",
    "correlationId",
}
WORKLOAD_SIGNIN_FIELDS = {
    "id",
    "createdDateTime",
    "appId",
    "servicePrincipalId",
    "servicePrincipalName",
    "ipAddress",
    "status",
    "location",
    "resourceDisplayName",
    "resourceId",
    "conditionalAccessStatus",
    "correlationId",
    "originalRequestId",
    "uniqueTokenIdentifier",
    "clientCredentialType",
    "resourceTenantId",
    "homeTenantId",
    "isInteractive",
}
PROPERTY_FIELDS: dict[str, set[str]] = {
    "AuditLogs": {
        "id",
        "category",
        "activityDisplayName",
        "activityDateTime",
        "operationType",
        "result",
        "resultReason",
        "loggedByService",
        "correlationId",
        "initiatedBy",
        "targetResources",
        "additionalDetails",
    },
    "ProvisioningLogs": {
        "id",
        "activityDateTime",
        "jobId",
        "cycleId",
        "changeId",
        "provisioningAction",
        "action",
        "provisioningStatusInfo",
        "provisioningSteps",
        "servicePrincipal",
        "sourceSystem",
        "targetSystem",
        "sourceIdentity",
        "targetIdentity",
        "initiatedBy",
        "modifiedProperties",
        "durationInMilliseconds",
    },
    "RiskyUsers": {
        "id",
        "userPrincipalName",
        "userDisplayName",
        "riskLevel",
        "riskState",
        "riskDetail",
        "riskLastUpdatedDateTime",
        "isDeleted",
        "isProcessing",
        "isGuest",
    },
    "UserRiskEvents": {
        "id",
        "requestId",
        "correlationId",
        "riskEventType",
        "riskType",
        "riskLevel",
        "riskState",
        "riskDetail",
        "source",
        "detectionTimingType",
        "activity",
        "ipAddress",
        "location",
        "activityDateTime",
        "detectedDateTime",
        "lastUpdatedDateTime",
        "userId",
        "userPrincipalName",
        "userDisplayName",
        "additionalInfo",
    },
    "RiskyServicePrincipals": {
        "id",
        "appId",
        "displayName",
        "riskLevel",
        "riskState",
        "riskDetail",
        "riskLastUpdatedDateTime",
    },
    "ServicePrincipalRiskEvents": {
        "id",
        "appId",
        "servicePrincipalId",
        "riskEventType",
        "riskLevel",
        "riskState",
        "detectionTimingType",
        "activityDateTime",
        "detectedDateTime",
        "lastUpdatedDateTime",
        "additionalInfo",
    },
    "MicrosoftGraphActivityLogs": {
        "requestId",
        "requestMethod",
        "requestUri",
        "responseStatusCode",
        "appId",
        "ipAddress",
        "userAgent",
        "timeGenerated",
    },
    "NetworkAccessTrafficLogs": {"createdDateTime", "sourceIp", "destinationFqdn", "action"},
}
PASCAL_FIELDS = {
    "Category",
    "CreatedDateTime",
    "DurationMs",
    "IPAddress",
    "ResultType",
    "AppId",
    "Id",
    "ServicePrincipalId",
    "ServicePrincipalName",
    "LocationDetails",
    "TenantId",
    "CorrelationId",
}

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(Z|[+-]\d{2}:\d{2})?$"
)
_US = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?: (AM|PM))?"
    r"(?: ([+-]\d{2}:\d{2}))?$"
)


def parse_time(text: str) -> datetime:
    """Every time shape the generator writes (plain Python, independent of the generator)."""
    m = _ISO.match(text)
    if m:
        y, mo, d, h, mi, s, frac, zone = m.groups()
        micro = int((frac or "0")[:6].ljust(6, "0"))
        moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro)
    else:
        m = _US.match(text)
        assert m, f"unparseable time {text!r}"
        mo, d, y, h, mi, s, half, zone = m.groups()
        hour = int(h) % 12 + (12 if half == "PM" else 0) if half else int(h)
        moment = datetime(int(y), int(mo), int(d), hour, int(mi), int(s))
    offset = timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return (moment - offset).replace(tzinfo=UTC)


def body_records(body: bytes) -> list[dict[str, Any]]:
    value = orjson.loads(body)
    if isinstance(value, dict) and "records" in value:
        return value["records"]
    if isinstance(value, list):
        return value
    return [value]


def category(rec: dict[str, Any]) -> str:
    return rec.get("category") or rec["Category"]


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))


@pytest.fixture(scope="module")
def run() -> Generated:
    return generate(OPTS)


@pytest.fixture(scope="module")
def signins(run: Generated) -> list[dict[str, Any]]:
    return user_signins(run)


def user_signins(run: Generated) -> list[dict[str, Any]]:
    """User sign-ins, first copy of each id, with parsed event time, sorted by time."""
    seen: set[str] = set()
    out = []
    for rec in run.records:
        if rec.get("category") not in USER_SIGNIN_CATEGORIES:
            continue
        p = rec["properties"]
        if p["id"] in seen:
            continue
        seen.add(p["id"])
        geo = p["location"]["geoCoordinates"]
        out.append(
            {
                "id": p["id"],
                "t": parse_time(p["createdDateTime"]),
                "upn": p["userPrincipalName"],
                "user": p["userId"],
                "ip": p["ipAddress"],
                "code": p["status"]["errorCode"],
                "country": p["location"]["countryOrRegion"],
                "client": p["clientAppUsed"],
                "geo": (geo["latitude"], geo["longitude"]),
            }
        )
    out.sort(key=lambda s: (s["t"], s["id"]))
    return out


def scenarios(run: Generated, kind: str) -> list[dict[str, Any]]:
    return [s for s in run.ground_truth["scenarios"] if s["kind"] == kind]


# -- shape -------------------------------------------------------------------------------------
def test_every_category_is_present_with_its_fields(run: Generated) -> None:
    counts = Counter(category(r) for r in run.records)
    assert set(CATEGORIES) <= set(counts), set(CATEGORIES) - set(counts)
    assert counts == Counter(run.ground_truth["counts"]["per_category"])
    interactive = counts["SignInLogs"]
    others = (
        counts["NonInteractiveUserSignInLogs"]
        + counts["ServicePrincipalSignInLogs"]
        + counts["ManagedIdentitySignInLogs"]
    )
    assert 5 <= others / interactive <= 10
    for rec in run.records:
        if "category" not in rec:
            assert set(rec) >= PASCAL_FIELDS and "time" not in rec, rec
            continue
        cat = rec["category"]
        assert set(rec) >= COMMON, (cat, COMMON - set(rec))
        assert "level" in rec or "Level" in rec
        if cat != "AuditLogs":
            assert "resultType" in rec, cat
        props = rec["properties"]
        if cat in USER_SIGNIN_CATEGORIES:
            assert set(props) >= USER_SIGNIN_FIELDS, USER_SIGNIN_FIELDS - set(props)
            assert rec["resultType"] == str(props["status"]["errorCode"])
            assert {"latitude", "longitude"} <= set(props["location"]["geoCoordinates"])
            assert {
                "deviceId",
                "displayName",
                "operatingSystem",
                "browser",
                "isCompliant",
                "isManaged",
                "trustType",
            } <= set(props["deviceDetail"])
            if props["status"]["errorCode"]:
                assert {"failureReason", "additionalDetails"} <= set(props["status"])
            for policy in props["appliedConditionalAccessPolicies"]:
                assert {
                    "id",
                    "displayName",
                    "result",
                    "enforcedGrantControls",
                    "enforcedSessionControls",
                } <= set(policy)
            for step in props["authenticationDetails"]:
                assert {
                    "authenticationMethod",
                    "succeeded",
                    "authenticationStepResultDetail",
                    "authenticationStepDateTime",
                } <= set(step)
        elif cat.endswith("SignInLogs"):
            assert set(props) >= WORKLOAD_SIGNIN_FIELDS, WORKLOAD_SIGNIN_FIELDS - set(props)
        elif cat in PROPERTY_FIELDS:
            assert PROPERTY_FIELDS[cat] <= set(props), (cat, PROPERTY_FIELDS[cat] - set(props))
        else:  # Activity log
            assert {"resultSignature", "callerIpAddress", "location"} <= set(rec), cat
        if cat == "AuditLogs":
            initiated = props["initiatedBy"]
            assert "user" in initiated or "app" in initiated
            for target in props["targetResources"]:
                assert {"id", "displayName", "type", "modifiedProperties"} <= set(target)


def test_signins_are_realistically_sized(run: Generated) -> None:
    sizes = [len(orjson.dumps(r)) for r in run.records if r.get("category") == "SignInLogs"]
    assert 3_000 <= sum(sizes) / len(sizes) <= 5_500


def test_same_seed_same_bytes_and_other_seed_differs() -> None:
    opts = GeneratorOptions(records=3_000, hours=6, seed=5, start=START, malformed_rate=0.05)
    a, b = generate(opts), generate(opts)
    assert a.bodies == b.bodies
    assert orjson.dumps(a.ground_truth) == orjson.dumps(b.ground_truth)
    c = generate(GeneratorOptions(records=3_000, hours=6, seed=6, start=START, malformed_rate=0.05))
    assert c.bodies != a.bodies


def test_records_count_and_order_match_the_bodies(run: Generated) -> None:
    truth = run.ground_truth
    malformed = {m["index"]: m for m in truth["malformed"]}
    dup_records = sum(d["records"] for d in truth["duplicates"]["bodies"])
    assert truth["counts"]["records_distinct"] == OPTS.records
    assert len(run.records) == OPTS.records + dup_records == truth["counts"]["records_emitted"]
    pos = 0
    for i, body in enumerate(run.bodies):
        assert len(body) < MAX_BODY
        if i in malformed:
            continue
        recs = body_records(body)
        assert recs == run.records[pos : pos + len(recs)]
        assert json.loads(body) is not None  # strict standard-library parser agrees
        pos += len(recs)
    assert pos == len(run.records)


def test_malformed_bodies_match_ground_truth(run: Generated) -> None:
    truth = run.ground_truth["malformed"]
    assert {m["kind"] for m in truth} == set(DEFECT_KINDS)
    share = len(truth) / len(run.bodies)
    assert 0.01 < share < 0.03
    for m in truth:
        body = run.bodies[m["index"]]
        try:
            value = json.loads(body)
            parsed = True
        except (ValueError, UnicodeDecodeError):
            parsed = False
        assert parsed == m["valid_json"], m
        if m["kind"] == "bad_category":
            assert (
                "../" in value["records"][0]["category"]
                or "..\\" in value["records"][0]["category"]
            )
        if m["kind"] == "raw_newline":
            assert b"\n" in body
        if m["kind"] == "empty_records":
            assert value == {"records": []}
        if m["kind"] == "wrong_top_level_type":
            assert not isinstance(value, dict | list)


def test_bodies_respect_a_smaller_size_limit() -> None:
    result = generate(
        GeneratorOptions(records=4_000, hours=0.25, seed=3, start=START, max_body_bytes=65_536)
    )
    assert max(len(b) for b in result.bodies) <= 65_536
    assert sum(1 for n in result.body_records if n > 1) > 10


# -- quirks ------------------------------------------------------------------------------------
def test_each_quirk_is_present(run: Generated) -> None:
    assert run.ground_truth["quirks_absent"] == []
    recs = run.records
    times = [r["time"] for r in recs if "time" in r]
    event_times = []
    for r in recs:
        p = r.get("properties") or {}
        for key in ("createdDateTime", "activityDateTime", "riskLastUpdatedDateTime"):
            if key in p:
                event_times.append(p[key])
    all_times = times + event_times
    for text in all_times:
        parse_time(text)
    assert any(re.search(r"\.\d{2}Z$", t) for t in all_times)
    assert any(re.search(r"\.\d{7}Z$", t) for t in all_times)
    assert any(re.search(r"\.\d{9}Z$", t) for t in all_times)
    assert any(t.endswith("+00:00") for t in all_times)
    assert any(t.endswith("-05:00") for t in all_times)
    assert any(re.search(r"T\d{2}:\d{2}:\d{2}\.\d+$", t) for t in all_times)
    assert any(re.search(r"T\d:", t) for t in all_times)
    assert any(re.match(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M$", t) for t in all_times)
    assert any(re.search(r"[AP]M [+-]\d{2}:\d{2}$", t) for t in all_times)
    assert any(re.match(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$", t) for t in all_times)

    pascal = [r for r in recs if "category" not in r]
    assert pascal and all(isinstance(r["LocationDetails"], str) for r in pascal)
    assert all(r["Category"] == "ServicePrincipalSignInLogs" for r in pascal)
    durations = {r["durationMs"] for r in recs if "durationMs" in r}
    assert 0 in durations and {"0", "-1", "14.2187"} <= durations
    levels = Counter(r.get("Level", r.get("level")) for r in recs)
    assert {4, "4", "Informational", "Information"} <= set(levels)
    assert any("Level" in r for r in recs) and any("level" in r for r in recs)
    assert any(r.get("resourceId", "").endswith("/providers/microsoft.aadiam") for r in recs)

    ips = {
        r["properties"]["ipAddress"] for r in recs if r.get("category") in USER_SIGNIN_CATEGORIES
    }
    assert {"", "<null>", "&lt;null&gt;"} <= ips
    assert any(ip.startswith("::2a02:") for ip in ips)
    assert any(":" in ip and not ip.startswith("::") for ip in ips)
    assert any("/" in ip for ip in ips)
    assert any(ip.endswith(".XXX") for ip in ips)

    props = [r["properties"] for r in recs if r.get("category") in USER_SIGNIN_CATEGORIES]
    assert any(GUID.match(p["userPrincipalName"]) for p in props)
    assert any(p["deviceDetail"]["displayName"] == "PII Removed" for p in props)
    zero = "00000000-0000-0000-0000-000000000000"
    assert any(p.get("servicePrincipalId") == zero for p in props)
    assert any(isinstance(p["conditionalAccessAudiences"], dict) for p in props)
    assert any(
        any(
            d["key"] == "Oauth Scope Info" and isinstance(json.loads(d["value"]), list)
            for d in p["authenticationProcessingDetails"]
        )
        for p in props
    )

    risk = [r["properties"] for r in recs if r.get("category") == "UserRiskEvents"]
    assert all(isinstance(json.loads(p["additionalInfo"]), list) for p in risk)
    audit = [r["properties"] for r in recs if r.get("category") == "AuditLogs"]
    values = [
        m["newValue"]
        for p in audit
        for t in p["targetResources"]
        for m in t["modifiedProperties"]
        if m["newValue"]
    ]
    assert values and all(json.loads(v) is not None for v in values)
    assert {0, "success"} <= {p["result"] for p in audit}
    assert any(not GUID.match(p["id"]) for p in audit)
    prov = [r for r in recs if r.get("category") == "ProvisioningLogs"]
    assert {"Success", "Failure", "Skipped"} <= {r["resultType"] for r in prov}
    assert any("Id" in r["properties"]["servicePrincipal"] for r in prov)
    assert any(
        isinstance(s["status"], int) for r in prov for s in r["properties"]["provisioningSteps"]
    )
    activity = [r for r in recs if r.get("category") in ("Administrative", "Policy")]
    assert any(isinstance(r.get("identity"), str) for r in activity)
    assert any(isinstance(r.get("identity"), dict) for r in activity)
    assert any("RoleLocation" in r for r in activity)
    assert any(r["operationName"].isupper() for r in activity)
    assert any(isinstance(r["properties"].get("policies"), str) for r in activity)


def test_duplicates_risk_copies_split_and_late_records(run: Generated) -> None:
    truth = run.ground_truth
    dups = truth["duplicates"]["bodies"]
    assert dups
    for d in dups:
        assert run.bodies[d["index"]] == run.bodies[d["original_index"]]
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in run.records:
        if r.get("category") in USER_SIGNIN_CATEGORIES:
            by_id[r["properties"]["id"]].append(r)
    dup_ids = set(truth["duplicates"]["source_ids"])
    copies = splits = 0
    for sid, group in by_id.items():
        distinct = {orjson.dumps(r) for r in group}
        if len(distinct) < 2:
            continue
        levels = {r["properties"]["riskLevelAggregated"] for r in group}
        policies = {
            orjson.dumps(r["properties"]["appliedConditionalAccessPolicies"]) for r in group
        }
        if len(levels) > 1:
            copies += 1
        elif len(policies) > 1:
            splits += 1
        else:
            raise AssertionError(f"unexplained variants of sign-in {sid}")
    assert copies and splits and dup_ids
    late = truth["late_records"]
    assert late
    late_ids = {x["id"] for x in late}
    pos = 0
    malformed = {m["index"] for m in truth["malformed"]}
    found = 0
    for i, body in enumerate(run.bodies):
        if i in malformed:
            continue
        recs = body_records(body)
        pos += len(recs)
        stamps = []
        for r in recs:
            p = r.get("properties") or {}
            ev = p.get("createdDateTime") or p.get("activityDateTime")
            if ev and "time" in r:
                stamps.append((parse_time(r["time"]), parse_time(ev), p.get("id")))
        for published, event, rid in stamps:
            if rid in late_ids:
                assert published - event >= timedelta(hours=1)
                found += 1
    assert found >= len(late_ids)
    assert {x["category"] for x in late} >= {"UserRiskEvents"}


# -- scenarios ---------------------------------------------------------------------------------
def test_each_scenario_is_in_ground_truth_with_its_signins(
    run: Generated, signins: list[dict[str, Any]]
) -> None:
    truth = run.ground_truth
    assert {s["kind"] for s in truth["scenarios"]} == set(SCENARIO_KINDS)
    assert truth["skipped_scenarios"] == []
    by_id = {s["id"]: s for s in signins}
    for sc in truth["scenarios"]:
        rows = [by_id[i] for i in sc["signin_ids"]]
        lo, hi = parse_time(sc["window"]["start"]), parse_time(sc["window"]["end"])
        assert all(lo - timedelta(seconds=1) <= r["t"] <= hi + timedelta(seconds=1) for r in rows)
        kind = sc["kind"]
        if kind == "password_spray":
            assert {r["ip"] for r in rows} == {sc["entity"]}
            assert {r["code"] for r in rows} <= {50126, 50053}
            assert len({r["upn"] for r in rows}) >= 5 and hi - lo <= timedelta(minutes=20)
        elif kind == "distributed_brute_force":
            assert {r["upn"] for r in rows} == {sc["entity"]} and len(rows) >= 30
            assert all(r["code"] for r in rows) and len({r["ip"] for r in rows}) >= 3
            assert len({r["country"] for r in rows}) >= 3 and lo.date() == hi.date()
        elif kind == "mfa_fatigue":
            assert [r["code"] for r in rows[:-1]] == [500121] * (len(rows) - 1)
            assert len(rows) >= 11 and rows[-1]["code"] == 0
            assert rows[-1]["t"] - rows[-2]["t"] <= timedelta(minutes=5)
        elif kind == "legacy_auth_success":
            assert all(r["code"] == 0 and r["client"] in LEGACY for r in rows)
        elif kind == "impossible_travel":
            a, b = rows
            hours = (b["t"] - a["t"]).total_seconds() / 3600
            assert haversine_km(a["geo"], b["geo"]) / hours > IMPOSSIBLE_SPEED_KMH
            assert a["code"] == b["code"] == 0 and a["country"] == b["country"]
        elif kind == "new_country":
            (row,) = rows
            assert row["code"] == 0
            assert [by_id[i]["country"] for i in sc["context_ids"]] != [row["country"]]


def test_tiny_runs_skip_scenarios_and_say_why() -> None:
    truth = generate(GeneratorOptions(records=60, hours=1, seed=1, start=START)).ground_truth
    assert truth["scenarios"] == []
    assert {s["kind"] for s in truth["skipped_scenarios"]} == set(SCENARIO_KINDS)
    assert all(s["reason"] for s in truth["skipped_scenarios"])


# -- background stays clear of every detection ------------------------------------------------
def _spray_ips(signins: list[dict[str, Any]], codes: set[int] | None) -> set[str]:
    per_ip: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for s in signins:
        if s["code"] and (codes is None or s["code"] in codes):
            per_ip[s["ip"]].append((s["t"], s["upn"]))
    flagged = set()
    for ip, events in per_ip.items():
        for i, (t, _) in enumerate(events):
            users = {u for t2, u in events[i:] if t2 - t <= timedelta(minutes=20)}
            if len(users) >= 5:
                flagged.add(ip)
    return flagged


def test_background_has_no_password_spray(run: Generated, signins: list[dict[str, Any]]) -> None:
    expected = {s["entity"] for s in scenarios(run, "password_spray")}
    assert _spray_ips(signins, {50126, 50053, 50055}) == expected
    assert _spray_ips(signins, None) == expected  # not even counting every failure code


def test_background_has_no_brute_force(run: Generated, signins: list[dict[str, Any]]) -> None:
    expected = {s["entity"] for s in scenarios(run, "distributed_brute_force")}
    for key in ("upn", "user"):
        per: dict[tuple[str, Any], list[dict[str, Any]]] = defaultdict(list)
        for s in signins:
            if s["code"] and s[key]:
                per[(s[key], s["t"].date())].append(s)
        flagged = {
            rows[0]["upn"]
            for rows in per.values()
            if len(rows) >= 30 and len({r["ip"] for r in rows}) >= 3
        }
        assert flagged == expected, key
        worst = max(
            len(rows) for (k, _), rows in per.items() if not any(r["upn"] in expected for r in rows)
        )
        assert worst < 20


def test_background_has_no_new_country(run: Generated, signins: list[dict[str, Any]]) -> None:
    expected = {i for s in scenarios(run, "new_country") for i in s["signin_ids"]}
    for key in ("user", "upn"):
        history: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        flagged = set()
        for s in signins:
            if s["code"] or not s[key]:
                continue
            seen = {c for t, c in history[s[key]] if s["t"] - t <= timedelta(days=14)}
            if seen and s["country"] not in seen:
                flagged.add(s["id"])
            history[s[key]].append((s["t"], s["country"]))
        assert flagged == expected, key


def test_background_has_no_impossible_travel(run: Generated, signins: list[dict[str, Any]]) -> None:
    expected = {tuple(s["signin_ids"]) for s in scenarios(run, "impossible_travel")}
    last: dict[str, dict[str, Any]] = {}
    flagged = set()
    fastest_background = 0.0
    for s in signins:
        if s["code"]:
            continue
        prev = last.get(s["user"])
        last[s["user"]] = s
        if prev is None:
            continue
        km = haversine_km(prev["geo"], s["geo"])
        if km < 1:
            continue
        hours = (s["t"] - prev["t"]).total_seconds() / 3600
        speed = km / hours if hours > 0 else math.inf
        if speed > IMPOSSIBLE_SPEED_KMH:
            flagged.add((prev["id"], s["id"]))
        else:
            fastest_background = max(fastest_background, speed)
    assert flagged == expected
    assert fastest_background < 300


def test_background_has_no_mfa_fatigue_or_legacy_success(
    run: Generated, signins: list[dict[str, Any]]
) -> None:
    denials: dict[str, list[datetime]] = defaultdict(list)
    fatigued = set()
    legacy = set()
    for s in signins:
        if s["code"] == 500121:
            denials[s["upn"]].append(s["t"])
        if s["code"] == 0:
            recent = [t for t in denials[s["upn"]] if s["t"] - t <= timedelta(minutes=30)]
            if len(recent) >= 10:
                fatigued.add(s["upn"])
            if s["client"] not in MODERN:
                legacy.add(s["id"])
    assert fatigued == {s["entity"] for s in scenarios(run, "mfa_fatigue")}
    assert legacy == {i for s in scenarios(run, "legacy_auth_success") for i in s["signin_ids"]}
    assert max(len(v) for k, v in denials.items() if k not in fatigued) <= 2


# -- files -------------------------------------------------------------------------------------
def test_write_ndjson_round_trips(run: Generated, tmp_path: Path) -> None:
    path = write_ndjson(run, tmp_path / "bodies.ndjson")
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == len(run.bodies)
    assert read_ndjson(path) == run.bodies
    truth = json.loads(truth_path(path).read_text())
    assert truth == json.loads(orjson.dumps(run.ground_truth))
    for line, body in zip(lines, run.bodies, strict=False):
        if line != body:
            assert line.startswith(b"b64:")


def test_streaming_writer_matches_in_memory_output(tmp_path: Path) -> None:
    opts = GeneratorOptions(records=2_500, hours=3, seed=9, start=START, malformed_rate=0.1)
    a = write_ndjson(generate(opts), tmp_path / "a.ndjson")
    truth = write_ndjson_stream(opts, tmp_path / "b.ndjson")
    assert (tmp_path / "b.ndjson").read_bytes() == a.read_bytes()
    assert truth_path(tmp_path / "b.ndjson").read_bytes() == truth_path(a).read_bytes()
    assert truth["counts"]["records_distinct"] == 2_500


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        GeneratorOptions(records=0)
    with pytest.raises(ValueError):
        GeneratorOptions(malformed_rate=1.0)
    with pytest.raises(ValueError):
        GeneratorOptions(start=datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        GeneratorOptions(max_body_bytes=2_000_000)
    start = GeneratorOptions(hours=5).resolved_start()
    assert start.minute == 0 and start.tzinfo is not None


def test_audit_highlights_in_ground_truth_match_the_records(run: Generated) -> None:
    """Every successful highlight the records hold is in the ground truth, and nothing else."""
    audit = [
        r["properties"]
        for r in run.records
        if r.get("category") == "AuditLogs" and r["properties"]["result"] != "failure"
    ]
    by_id = {p["id"]: p for p in audit}
    created: dict[str, str] = {}
    expected = set()
    for p in by_id.values():
        name, target = p["activityDisplayName"], p["targetResources"][0]
        changes = {m["displayName"]: m for m in target["modifiedProperties"]}
        if name in ("Add user", "Invite external user"):
            created[target["id"]] = p["id"]
        role = changes.get("Role.DisplayName")
        if name.startswith("Add") and "member to role" in name and role is not None:
            privileged = json.loads(role["newValue"]) != "Security Reader"
            if privileged:
                expected.add(("privileged_role_assignment", p["id"], target["id"]))
        if "UserType" in changes and changes["UserType"]["oldValue"] == '["Guest"]':
            expected.add(("guest_to_member", p["id"], target["id"]))
        if "Certificates and secrets" in name:
            expected.add(("app_credential_change", p["id"], target["id"]))
    for p in by_id.values():
        target = p["targetResources"][0]["id"]
        if p["activityDisplayName"] == "Delete user" and target in created:
            expected.add(("created_then_deleted", p["id"], target))
    truth = run.ground_truth["audit_highlights"]
    assert {(h["kind"], h["audit_id"], h["target_id"]) for h in truth} == expected
    assert {kind for kind, _, _ in expected} == {
        "privileged_role_assignment",
        "created_then_deleted",
        "guest_to_member",
        "app_credential_change",
    }
    for h in truth:
        if h["kind"] == "created_then_deleted":
            assert h["created"] < h["time"]
