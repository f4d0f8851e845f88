"""session_detections: token and session abuse in sign-ins; every injected scenario found and
nothing in the look-alike background, thresholds at their edges."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from azlogs_pipeline.summarize import DetectionThresholds, build_summary
from azlogs_pipeline_tests.summarize.quality import findings
from azlogs_pipeline_tests.summarize.signins import T0, signin, write_signins

FAMILY = "session_detections"
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def detect(data_dir: Path, rows: list[dict[str, Any]], **thresholds: Any) -> list[dict]:
    """Write sign-ins, build signin_detections then session_detections for their hours."""
    hours = write_signins(data_dir, rows)
    limits = DetectionThresholds(**thresholds)
    for hour in hours:
        build_summary(data_dir, "signin_detections", hour, thresholds=limits)
    return findings([build_summary(data_dir, FAMILY, h, thresholds=limits) for h in hours])


def names(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((r["detection"], r["entity"]) for r in found)


def test_session_from_multiple_countries_edges(tmp_path: Path) -> None:
    home = signin(T0, session_id="sess-1", city="Berlin")
    abroad = signin(T0 + 24 * HOUR - SECOND, session_id="sess-1", city="Madrid", code=53003)
    found = detect(tmp_path / "a", [home, abroad])
    assert names(found) == [("session_from_multiple_countries", "sess-1")]
    assert found[0]["countries"] == ["DE", "ES"] and found[0]["record_ids"] == [
        home["id"],
        abroad["id"],
    ]
    late = signin(T0 + 24 * HOUR, session_id="sess-1", city="Madrid")
    assert detect(tmp_path / "b", [home, late]) == [], "window is (t - 24 h, t]"
    one_country = [home, signin(T0 + HOUR, session_id="sess-1", city="Munich", ip="198.51.100.99")]
    assert detect(tmp_path / "c", one_country) == []
    other_session = signin(T0 + HOUR, session_id="sess-2", city="Madrid")
    assert detect(tmp_path / "d", [home, other_session]) == []
    three = [home, abroad, signin(T0 + 2 * HOUR, session_id="sess-1", city="Paris")]
    assert len(detect(tmp_path / "e", three)) == 1, "reported once"
    assert detect(tmp_path / "f", three, session_min_countries=3)[0]["distinct_countries"] == 3


def test_device_code_signin_edges(tmp_path: Path) -> None:
    before = signin(T0 - 2 * HOUR)
    phished = signin(T0, authentication_protocol="deviceCode")
    assert names(detect(tmp_path / "a", [before, phished])) == [
        ("device_code_signin", "alice@contoso.com")
    ]
    assert detect(tmp_path / "b", [phished]) == [], "no history of the user: not judged"
    old = signin(T0 - 14 * 24 * HOUR, authentication_protocol="deviceCode")
    assert len(detect(tmp_path / "c", [old, before, phished])) == 1, "14 days ago: outside"
    recent = signin(T0 - 14 * 24 * HOUR + SECOND, authentication_protocol="deviceCode")
    assert detect(tmp_path / "d", [recent, before, phished]) == [], "uses it: no finding"
    failed = signin(T0, authentication_protocol="deviceCode", code=50126)
    assert detect(tmp_path / "e", [before, failed]) == []


def test_disabled_account_probing_edges(tmp_path: Path) -> None:
    ip = "203.0.113.50"
    tries = [signin(T0 + i * MINUTE, "former@contoso.com", code=50057, ip=ip) for i in range(3)]
    success = signin(T0 + 62 * MINUTE - SECOND, "bob@contoso.com", ip=ip)
    found = detect(tmp_path / "a", [*tries, success])
    assert names(found) == [("disabled_account_probing", ip)]
    assert found[0]["record_ids"] == [t["id"] for t in tries[2:]] + [success["id"]]
    too_late = signin(T0 + 62 * MINUTE, "bob@contoso.com", ip=ip)  # an hour after the last try
    assert detect(tmp_path / "b", [*tries, too_late]) == []
    same_user = signin(T0 + 5 * MINUTE, "former@contoso.com", ip=ip)
    assert detect(tmp_path / "c", [*tries, same_user]) == []
    other_ip = signin(T0 + 5 * MINUTE, "bob@contoso.com", ip="203.0.113.51")
    assert detect(tmp_path / "d", [*tries, other_ip]) == []
    wider = detect(tmp_path / "e", [*tries, too_late], probing_window_minutes=90)
    assert len(wider) == 1


def brute_force(day_start: datetime, user: str = "victim@contoso.com") -> list[dict]:
    places = ["Madrid", "Lisbon", "Paris"]
    return [
        signin(day_start + i * MINUTE, user, code=50126, ip=f"192.0.2.{i % 3}", city=places[i % 3])
        for i in range(30)
    ]


def test_success_after_attack_edges(tmp_path: Path) -> None:
    attack = brute_force(T0)
    end = attack[-1]["event_time"]
    first = signin(end + 24 * HOUR, "victim@contoso.com", ip="198.51.100.77")
    second = signin(end + 24 * HOUR + MINUTE, "victim@contoso.com", ip="198.51.100.77")
    found = detect(tmp_path / "a", [*attack, first, second])
    assert names(found) == [("success_after_attack", "victim@contoso.com")], "the first only"
    assert (
        found[0]["record_ids"] == [first["id"]]
        and "distributed_brute_force" in found[0]["description"]
    )
    late = signin(end + 24 * HOUR + SECOND, "victim@contoso.com")
    assert detect(tmp_path / "b", [*attack, late]) == []
    other = signin(end + HOUR, "someone@contoso.com")
    assert detect(tmp_path / "c", [*attack, other]) == []
    spray = [
        signin(T0 + i * MINUTE, f"user{i}@contoso.com", code=50126, ip="203.0.113.9")
        for i in range(5)
    ]
    from_spray_ip = signin(T0 + HOUR, "user2@contoso.com", ip="203.0.113.9")
    assert names(detect(tmp_path / "d", [*spray, from_spray_ip])) == [
        ("success_after_attack", "203.0.113.9")
    ]
