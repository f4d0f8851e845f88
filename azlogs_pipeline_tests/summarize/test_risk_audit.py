"""Risk and audit summaries: exact rows from hand-built table rows, window edges, rebuilds.

Table rows are written straight into table-hour files (the normalized tables' own schemas), so
each test states exactly what the summary SQL sees; `build_summary` then runs the real SQL.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from azlogs_pipeline.lake.parquet import write_parquet_atomic
from azlogs_pipeline.lake.paths import hour_start, table_hour_file
from azlogs_pipeline.normalize.schemas import table_schemas
from azlogs_pipeline.summarize.build import build_summary

HOUR = datetime(2025, 3, 10, 12, tzinfo=UTC)
"""The hourly partition under test: [12:00, 13:00) on 2025-03-10."""
END = HOUR + timedelta(hours=1)
_ids = count()


def at(minutes: float) -> datetime:
    """An instant `minutes` after the partition's start (negative: before it)."""
    return HOUR + timedelta(minutes=minutes)


def write_rows(data_dir: Path, table: str, rows: list[dict[str, Any]]) -> None:
    """Write `rows` (missing columns NULL) into the table-hour files of their event hours."""
    schema = table_schemas()[table]
    by_hour: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        full = {"record_id": f"r{next(_ids):05d}", **row}
        by_hour[hour_start(full["event_time"])].append(full)
    for hour, hour_rows in by_hour.items():
        table_data = pa.Table.from_pylist(hour_rows, schema=schema)
        write_parquet_atomic(table_data, table_hour_file(data_dir, table, hour))


def rows_of(data_dir: Path, name: str, start: datetime = HOUR) -> list[dict[str, Any]]:
    return build_summary(data_dir, name, start).data.to_pylist()


def pick(rows: list[dict[str, Any]], *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[c] for c in columns) for row in rows]


# -- risky_users_current -------------------------------------------------------------------------


def snapshot(user: str, when: datetime, level: str, state: str) -> dict[str, Any]:
    return {
        "user_id": user,
        "event_time": when,
        "user_principal_name": f"{user}@contoso.com",
        "risk_level": level,
        "risk_state": state,
        "is_deleted": False,
        "is_guest": False,
    }


def test_risky_users_current_latest_state_wins(tmp_path: Path) -> None:
    lookback_start = HOUR - timedelta(days=90)
    write_rows(
        tmp_path,
        "risky_users",
        [
            # a: at risk, then remediated: the later snapshot wins, not risky now
            snapshot("a", at(-120), "high", "atRisk"),
            snapshot("a", at(-30), "none", "remediated"),
            # b: risky, dismissed, risky again twice: the streak starts after the dismissal
            snapshot("b", at(-200), "low", "atRisk"),
            snapshot("b", at(-100), "none", "dismissed"),
            snapshot("b", at(-50), "medium", "atRisk"),
            snapshot("b", at(10), "high", "atRisk"),
            # c: updated after the window end: the partition does not see it
            snapshot("c", at(61), "high", "atRisk"),
            # d: the first instant of the 90-day look-back is in; e: just before it is out
            snapshot("d", lookback_start, "low", "confirmedCompromised"),
            snapshot("e", lookback_start - timedelta(microseconds=1), "high", "atRisk"),
        ],
    )
    rows = rows_of(tmp_path, "risky_users_current")
    assert pick(
        rows, "as_of", "user_id", "risk_level", "risk_state", "is_risky", "risky_since"
    ) == [
        (END, "a", "none", "remediated", False, None),
        (END, "b", "high", "atRisk", True, at(-50)),
        (END, "d", "low", "confirmedCompromised", True, lookback_start),
    ]
    assert pick(rows, "risk_last_updated_time", "snapshots_90d") == [
        (at(-30), 2),
        (at(10), 4),
        (lookback_start, 1),
    ]


def test_risky_users_current_same_instant_ties_break_on_record_id(tmp_path: Path) -> None:
    write_rows(
        tmp_path,
        "risky_users",
        [
            {**snapshot("a", at(5), "high", "atRisk"), "record_id": "r2"},
            {**snapshot("a", at(5), "none", "remediated"), "record_id": "r1"},
        ],
    )
    [row] = rows_of(tmp_path, "risky_users_current")
    assert (row["risk_state"], row["is_risky"], row["risky_since"]) == ("atRisk", True, at(5))


# -- risk_events_daily ---------------------------------------------------------------------------


def detection(
    user: str | None, when: datetime, kind: str | None, level: str, timing: str, state: str
) -> dict[str, Any]:
    return {
        "user_id": user,
        "event_time": when,
        "risk_event_type": kind,
        "risk_level": level,
        "detection_timing_type": timing,
        "risk_state": state,
    }


def test_risk_events_daily_counts_per_day_type_level_timing(tmp_path: Path) -> None:
    day = datetime(2025, 3, 10, tzinfo=UTC)
    write_rows(
        tmp_path,
        "user_risk_events",
        [
            detection("a", day, "unlikelyTravel", "medium", "offline", "atRisk"),
            detection(
                "b", day + timedelta(hours=5), "unlikelyTravel", "medium", "offline", "atRisk"
            ),
            detection(
                "a", day + timedelta(hours=9), "unlikelyTravel", "medium", "offline", "dismissed"
            ),
            detection(
                "c",
                day + timedelta(hours=23, minutes=59),
                "passwordSpray",
                "high",
                "realtime",
                "confirmedCompromised",
            ),
            detection("c", day + timedelta(hours=3), None, "low", "nearRealtime", "atRisk"),
            # the day before and the day after belong to other partitions
            detection("a", day - timedelta(microseconds=1), "newCountry", "low", "realtime", "x"),
            detection("a", day + timedelta(days=1), "newCountry", "low", "realtime", "atRisk"),
        ],
    )
    result = build_summary(tmp_path, "risk_events_daily", day + timedelta(hours=7))
    assert (result.window_start, result.window_end) == (day, day + timedelta(days=1))
    assert pick(
        result.data.to_pylist(),
        "date",
        "risk_event_type",
        "risk_level",
        "detection_timing_type",
        "detections",
        "distinct_users",
        "at_risk",
        "confirmed_compromised",
    ) == [
        (day.date(), "passwordSpray", "high", "realtime", 1, 1, 0, 1),
        (day.date(), "unknown", "low", "nearRealtime", 1, 1, 1, 0),
        (day.date(), "unlikelyTravel", "medium", "offline", 3, 2, 2, 0),
    ]


# -- top_risky_users -----------------------------------------------------------------------------


def signin(
    user: str, when: datetime, result: str, country: str, risk: str | None = None
) -> dict[str, Any]:
    return {
        "id": f"s{next(_ids)}",
        "event_time": when,
        "user_id": user,
        "user_principal_name": f"{user}@contoso.com",
        "result": result,
        "error_code": 0 if result == "success" else 50126,
        "location_country": country,
        "ip_address": f"203.0.113.{len(country)}",
        "risk_level_during_signin": risk,
        "risk_level_aggregated": risk,
    }


def test_top_risky_users_joins_state_detections_and_signins(tmp_path: Path) -> None:
    week_start = END - timedelta(days=7)
    write_rows(
        tmp_path,
        "risky_users",
        [
            snapshot("x", at(-600), "high", "atRisk"),
            snapshot("z", at(-600), "high", "atRisk"),
            snapshot("z", at(-60), "none", "remediated"),  # z: no longer at risk, nothing else
        ],
    )
    write_rows(
        tmp_path,
        "user_risk_events",
        [
            detection("x", at(-3000), "unlikelyTravel", "high", "offline", "atRisk"),
            detection("x", at(-20), "anonymizedIPAddress", "medium", "realtime", "atRisk"),
            detection("x", week_start, "newCountry", "low", "realtime", "atRisk"),
            detection("x", week_start - timedelta(seconds=1), "newCountry", "low", "x", "x"),
            detection("y", at(-5), "leakedCredentials", "low", "offline", "atRisk"),
        ],
    )
    write_rows(
        tmp_path,
        "signin_logs",
        [
            signin("x", at(-24 * 60 + 61), "failure", "RU"),  # 23 h before the end: counted
            signin("x", at(-24 * 60 + 59), "failure", "RU"),  # 24 h 1 min before: not in 24 h
            signin("x", at(30), "failure", "RU"),
            signin("x", at(-2000), "success", "FR", risk="medium"),
            signin("x", at(-10), "success", "DE", risk="low"),  # low risk: not a risky sign-in
            signin("x", at(-500), "success", "FR"),
            signin("w", at(-40), "success", "US", risk="high"),  # only a risky sign-in
            signin("z", at(-40), "failure", "US"),
        ],
    )
    rows = rows_of(tmp_path, "top_risky_users")
    assert pick(
        rows,
        "rank",
        "user_id",
        "risk_level",
        "risk_state",
        "detections_7d",
        "high_detections_7d",
        "failed_signins_24h",
        "signins_7d",
        "countries_7d",
        "last_risky_signin_level",
    ) == [
        (1, "x", "high", "atRisk", 3, 1, 2, 6, ["DE", "FR"], "medium"),
        (2, "y", None, None, 1, 0, 0, 0, [], None),  # a detection ranks above
        (3, "w", None, None, 0, 0, 0, 1, ["US"], "high"),  # a risky sign-in alone
    ]
    x = rows[0]
    assert x["as_of"] == END
    assert x["risk_event_types"] == ["anonymizedIPAddress", "newCountry", "unlikelyTravel"]
    assert x["last_risky_signin_time"] == at(-2000)
    assert x["last_risky_signin_country"] == "FR"


# -- audit_highlights ----------------------------------------------------------------------------


def audit(
    activity: str,
    when: datetime,
    target: str,
    *,
    target_type: str = "User",
    modified: list[tuple[str, str | None, str | None]] | None = None,
    result: str = "success",
    extra_targets: list[tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    targets = [(target, f"name-{target}", target_type), *(extra_targets or [])]
    return {
        "id": f"audit-{activity}-{target}-{when:%H%M%S}",
        "event_time": when,
        "activity_display_name": activity,
        "result": result,
        "initiated_by_upn": "admin@contoso.com",
        "initiated_by_ip": "198.51.100.7",
        "target_ids": [t[0] for t in targets],
        "target_names": [t[1] for t in targets],
        "target_upns": [f"{t[0]}@contoso.com" if t[2] == "User" else None for t in targets],
        "target_types": [t[2] for t in targets],
        "modified_properties": [
            {"target_id": target, "display_name": n, "old_value": o, "new_value": v}
            for n, o, v in (modified or [])
        ],
    }


def role_add(when: datetime, user: str, role: str, template: str, **kw: Any) -> dict[str, Any]:
    return audit(
        "Add member to role",
        when,
        user,
        modified=[("Role.DisplayName", None, f'"{role}"'), ("Role.TemplateId", None, template)],
        extra_targets=[(template, role, "Role")],
        **kw,
    )


GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
SECURITY_READER = "5d6b6bb7-de71-4623-b4af-96380a352509"


def test_audit_highlights_each_kind_and_the_24_hour_edge(tmp_path: Path) -> None:
    day = timedelta(hours=24)
    second = timedelta(seconds=1)
    write_rows(
        tmp_path,
        "audit_logs",
        [
            # created then deleted: just under, exactly and just over 24 h
            audit("Add user", at(10) - day + second, "u-under"),
            audit("Delete user", at(10), "u-under"),
            audit("Invite external user", at(20) - day, "u-exact"),
            audit("Delete user", at(20), "u-exact"),
            audit("Add user", at(30) - day - second, "u-over"),
            audit("Delete user", at(30), "u-over"),
            # a failed creation does not count; a deletion without a creation neither
            audit("Add user", at(-60), "u-failed", result="failure"),
            audit("Delete user", at(35), "u-failed"),
            audit("Delete user", at(36), "u-old"),
            # roles: privileged yes, Security Reader no, failed no, earlier hour not this partition
            role_add(at(40), "u-admin", "Global Administrator", GLOBAL_ADMIN),
            role_add(at(41), "u-reader", "Security Reader", SECURITY_READER),
            role_add(at(42), "u-denied", "Global Administrator", GLOBAL_ADMIN, result="failure"),
            role_add(at(-5), "u-earlier", "Global Administrator", GLOBAL_ADMIN),
            # guest to member yes, member to guest no
            audit(
                "Update user", at(45), "u-guest", modified=[("UserType", '["Guest"]', '["Member"]')]
            ),
            audit(
                "Update user",
                at(46),
                "u-member",
                modified=[("UserType", '["Member"]', '["Guest"]')],
            ),
            # application credentials
            audit(
                "Update application - Certificates and secrets management",
                at(50),
                "app-1",
                target_type="Application",
                modified=[("KeyDescription", "[]", '["[KeyType=Password,DisplayName=ci]"]')],
            ),
            audit("Update application", at(51), "app-2", target_type="Application"),
        ],
    )
    rows = rows_of(tmp_path, "audit_highlights")
    # rows come sorted by highlight, then time
    assert pick(rows, "highlight", "event_time", "target_id", "detail", "created_time") == [
        ("app_credential_change", at(50), "app-1", '["[KeyType=Password,DisplayName=ci]"]', None),
        ("created_then_deleted", at(10), "u-under", "lived 1439 min", at(10) - day + second),
        ("created_then_deleted", at(20), "u-exact", "lived 1440 min", at(20) - day),
        ("guest_to_member", at(45), "u-guest", "UserType Guest -> Member", None),
        ("privileged_role_assignment", at(40), "u-admin", "Global Administrator", None),
    ]
    assert {(r["actor"], r["actor_ip"], r["target_upn"]) for r in rows[1:]} == {
        ("admin@contoso.com", "198.51.100.7", f"{t}@contoso.com")
        for t in ("u-under", "u-exact", "u-admin", "u-guest")
    }


# -- rebuilds ------------------------------------------------------------------------------------


def _digest(path: Path | None) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path else None


@pytest.mark.parametrize(
    "name", ["risky_users_current", "risk_events_daily", "top_risky_users", "audit_highlights"]
)
def test_rebuilding_in_any_order_gives_the_same_files(tmp_path: Path, name: str) -> None:
    write_rows(
        tmp_path,
        "risky_users",
        [snapshot(u, at(m), "high", "atRisk") for u, m in (("a", -70), ("b", 5), ("a", 30))],
    )
    write_rows(
        tmp_path,
        "user_risk_events",
        [
            detection(u, at(m), "newCountry", "low", "realtime", "atRisk")
            for u, m in (("a", -70), ("b", 5), ("a", 30))
        ],
    )
    write_rows(tmp_path, "signin_logs", [signin("a", at(-65), "success", "FR", risk="high")])
    write_rows(
        tmp_path,
        "audit_logs",
        [
            audit("Add user", at(-90), "u1"),
            audit("Delete user", at(20), "u1"),
            role_add(at(-50), "u2", "Global Administrator", GLOBAL_ADMIN),
        ],
    )
    hours = [HOUR - timedelta(hours=2), HOUR - timedelta(hours=1), HOUR]
    forward = [_digest(build_summary(tmp_path, name, h).path) for h in hours]
    backward = [_digest(build_summary(tmp_path, name, h).path) for h in reversed(hours)][::-1]
    again = [_digest(build_summary(tmp_path, name, h).path) for h in hours]
    assert forward == backward == again
    assert any(forward), "the data must give this summary rows in some hour"
