"""signin_detections: every injected scenario found and nothing else, thresholds at their edges,
one finding per entity and window however hours are rebuilt."""

from __future__ import annotations

import math
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from azlogs_pipeline.lake.paths import summary_root, tables_root
from azlogs_pipeline.summarize import DetectionThresholds, SummaryResult, build_summary
from azlogs_pipeline.summarize.specs import summary_spec
from azlogs_pipeline_tests.summarize.generated_lake import GeneratedLake
from azlogs_pipeline_tests.summarize.quality import findings
from azlogs_pipeline_tests.summarize.signins import CITIES, T0, signin, write_signins

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def detect(data_dir: Path, rows: list[dict[str, Any]], **thresholds: Any) -> list[dict[str, Any]]:
    """Write `rows`, build signin_detections for every hour they touch; all findings."""
    hours = write_signins(data_dir, rows)
    limits = DetectionThresholds(**thresholds)
    return findings(
        [build_summary(data_dir, "signin_detections", h, thresholds=limits) for h in hours]
    )


def kinds(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((row["detection"], row["entity"]) for row in found)


# -- quality on generated data ------------------------------------------------------------------


@pytest.mark.timeout(900)  # may build the shared lake and the family's summaries
def test_each_finding_has_evidence_and_a_stable_unique_id(
    built_summaries: dict[str, list[SummaryResult]],
) -> None:
    found = findings(built_summaries["signin_detections"])
    assert found
    assert len({row["detection_id"] for row in found}) == len(found)
    for row in found:
        assert row["window_start"] <= row["window_end"]
        assert row["hour"] <= row["window_end"] < row["hour"] + timedelta(hours=1)
        assert row["signins"] == len(row["signin_ids"]) > 0
        assert row["severity"] in ("high", "medium") and row["entity_type"] in ("user", "ip")


@pytest.mark.timeout(1200)  # every summary of every hour, twice, on a shared 2-core machine
def test_rebuilding_hours_in_any_order_gives_the_same_files(
    generated_lake: GeneratedLake,
    built_summaries: dict[str, list[SummaryResult]],
    tmp_path: Path,
) -> None:
    shutil.copytree(tables_root(generated_lake.data_dir), tables_root(tmp_path))
    hours = list(generated_lake.hours)
    random.Random(5).shuffle(hours)
    # Summaries that read other summaries are built after those (Dagster's lineage, azlogs run).
    for readers in (False, True):
        for hour in hours:
            for name in built_summaries:
                if bool(summary_spec(name).summaries) == readers:
                    build_summary(tmp_path, name, hour)
    for name, results in built_summaries.items():
        expected = {
            p.relative_to(summary_root(generated_lake.data_dir, name)): p.read_bytes()
            for p in summary_root(generated_lake.data_dir, name).rglob("part.parquet")
        }
        rebuilt = {
            p.relative_to(summary_root(tmp_path, name)): p.read_bytes()
            for p in summary_root(tmp_path, name).rglob("part.parquet")
        }
        assert len(expected) == sum(1 for r in results if r.path is not None) > 0
        assert rebuilt == expected, name


# -- thresholds at their edges (hand-built sign-ins) --------------------------------------------


def spray(start: datetime, users: int, span: timedelta, ip: str = "203.0.113.9") -> list[dict]:
    step = span / max(users - 1, 1)
    return [
        signin(start + i * step, f"user{i}@contoso.com", code=50126, ip=ip, city="Madrid")
        for i in range(users)
    ]


def test_password_spray_edges(tmp_path: Path) -> None:
    start = T0 + 50 * MINUTE
    five = detect(tmp_path / "a", spray(start, 5, 20 * MINUTE - SECOND))
    assert kinds(five) == [("password_spray", "203.0.113.9")]
    assert five[0]["distinct_users"] == 5 and five[0]["entity_type"] == "ip"
    assert five[0]["hour"] == T0 + timedelta(hours=1), "the hour of the fifth failure owns it"
    assert detect(tmp_path / "b", spray(start, 4, 10 * MINUTE)) == []
    assert detect(tmp_path / "c", spray(start, 5, 20 * MINUTE)) == [], "window is (t-20min, t]"
    other_code = [dict(r, error_code=50057) for r in spray(start, 6, 5 * MINUTE)]
    assert detect(tmp_path / "d", other_code) == []
    # A long spray is one finding; a new burst after a quiet window is another.
    bursts = spray(start, 12, 30 * MINUTE) + spray(start + 2 * timedelta(hours=1), 5, MINUTE)
    assert [r["signins"] for r in detect(tmp_path / "e", bursts)] == [5, 5]


def brute_force(day_start: datetime, failures: int, locations: int) -> list[dict]:
    places = ["Madrid", "Lisbon", "Paris", "Munich"]
    return [
        signin(
            day_start + i * 2 * MINUTE,
            "victim@contoso.com",
            code=50126,
            ip=f"192.0.2.{i % locations}",
            city=places[i % locations],
        )
        for i in range(failures)
    ]


def test_distributed_brute_force_edges(tmp_path: Path) -> None:
    day = T0.replace(hour=1)
    found = detect(tmp_path / "a", brute_force(day, 30, 3))
    assert kinds(found) == [("distributed_brute_force", "victim@contoso.com")]
    assert (found[0]["failures"], found[0]["distinct_ips"]) == (30, 3)
    assert detect(tmp_path / "b", brute_force(day, 29, 3)) == []
    assert detect(tmp_path / "c", brute_force(day, 30, 2)) == []
    # 40 failures, but split by midnight into 20 + 20: never 30 in one UTC day
    across = brute_force(T0.replace(hour=23, minute=20), 40, 3)
    assert detect(tmp_path / "d", across) == []
    # 60 failures in a day: reported once
    assert len(detect(tmp_path / "e", brute_force(day, 60, 4))) == 1


def test_new_country_edges(tmp_path: Path) -> None:
    home = signin(T0 - timedelta(days=13), city="Berlin")
    found = detect(tmp_path / "a", [home, signin(T0, city="Paris")])
    assert kinds(found) == [("new_country", "alice@contoso.com")]
    assert found[0]["countries"] == ["FR"] and "known: DE" in found[0]["description"]
    old_home = signin(T0 - timedelta(days=14, seconds=1), city="Berlin")
    assert detect(tmp_path / "b", [old_home, signin(T0, city="Paris")]) == [], "no history"
    seen = signin(T0 - timedelta(days=12), city="Paris")  # new then, not at T0
    found = detect(tmp_path / "c", [home, seen, signin(T0, city="Paris")])
    assert [row["window_end"] for row in found] == [seen["event_time"]]
    failure_only = signin(T0 - timedelta(days=1), city="Paris", code=50126)
    found = detect(tmp_path / "d", [home, failure_only, signin(T0, city="Paris")])
    assert kinds(found) == [("new_country", "alice@contoso.com")], "failures are no history"


def km(a: str, b: str) -> float:
    _, lat1, lon1 = CITIES[a]
    _, lat2, lon2 = CITIES[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def travel(speed_kmh: float, a: str = "Berlin", b: str = "Munich") -> list[dict]:
    elapsed = timedelta(hours=km(a, b) / speed_kmh)
    return [signin(T0, city=a), signin(T0 + elapsed, city=b)]


def test_impossible_travel_edges(tmp_path: Path) -> None:
    found = detect(tmp_path / "a", travel(1010))
    assert kinds(found) == [("impossible_travel", "alice@contoso.com")]
    assert found[0]["speed_kmh"] == pytest.approx(1010, rel=0.01)
    assert found[0]["distance_km"] == pytest.approx(km("Berlin", "Munich"), abs=0.1)
    assert len(found[0]["signin_ids"]) == 2
    assert detect(tmp_path / "b", travel(990)) == []
    assert detect(tmp_path / "c", travel(990), impossible_travel_speed_kmh=900) != []
    near = [signin(T0, city="Berlin"), signin(T0 + SECOND, city="Potsdam")]  # ~25 km
    assert detect(tmp_path / "d", near) == [], "closer than impossible_travel_min_km"
    # only consecutive successes count: a stop in between makes both legs possible
    legs = [*travel(1010), signin(T0 + timedelta(minutes=1), city="Berlin", code=50126)]
    assert len(detect(tmp_path / "e", legs)) == 1


def fatigue(denials: int, success_after: timedelta) -> list[dict]:
    rows = [
        signin(T0 + i * 40 * SECOND, code=500121, additional_details="MFA denied")
        for i in range(denials)
    ]
    last = T0 + (denials - 1) * 40 * SECOND
    return [*rows, signin(last + success_after), signin(last + success_after + MINUTE)]


def test_mfa_fatigue_edges(tmp_path: Path) -> None:
    found = detect(tmp_path / "a", fatigue(10, 9 * MINUTE))
    assert kinds(found) == [("mfa_fatigue", "alice@contoso.com")], "first success only"
    assert (found[0]["failures"], found[0]["successes"]) == (10, 1)
    assert detect(tmp_path / "b", fatigue(9, 2 * MINUTE)) == []
    assert detect(tmp_path / "c", fatigue(10, 11 * MINUTE)) == []
    assert detect(tmp_path / "d", fatigue(9, 2 * MINUTE), mfa_fatigue_min_denials=9) != []


def test_legacy_auth_success_edges(tmp_path: Path) -> None:
    rows = [
        signin(T0, client="IMAP4"),
        signin(T0 + timedelta(hours=2), client="POP3"),  # same episode
        signin(T0 + timedelta(hours=27), client="Authenticated SMTP"),  # a new one
        signin(T0, "bob@contoso.com", client="IMAP4", code=53003),  # blocked: not a success
        signin(T0, "carol@contoso.com", client="Mobile Apps and Desktop clients"),
    ]
    found = detect(tmp_path, rows)
    assert [(r["entity"], r["description"]) for r in found] == [
        ("alice@contoso.com", "client IMAP4"),
        ("alice@contoso.com", "client Authenticated SMTP"),
    ]


def test_a_finding_belongs_to_one_hour_however_often_rebuilt(tmp_path: Path) -> None:
    rows = spray(T0 + 50 * MINUTE, 8, 15 * MINUTE) + fatigue(12, 3 * MINUTE)
    hours = write_signins(tmp_path, rows)
    order = hours + hours[::-1] + hours
    results = [build_summary(tmp_path, "signin_detections", hour) for hour in order]
    last = {r.window_start: r for r in results}
    ids = [row["detection_id"] for r in last.values() for row in r.data.to_pylist()]
    assert len(ids) == len(set(ids)) == 2
    assert sorted(
        i for r in results[: len(hours)] for i in r.data.column("detection_id").to_pylist()
    ) == sorted(ids)
