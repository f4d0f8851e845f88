"""docs/queries.md: every ready query runs on the read-only catalog of a generated lake, returns the
columns it promises and finds what the generator put there.

The lake is built the way the pipeline builds it: generator records -> raw lake -> normalized
tables of every hour -> every summary partition -> catalog. Expected entities come from the
generator's ground truth (injected scenarios, audit highlights) or from the records it sent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from azlogs_pipeline.lake.catalog import connect_read_only, ensure_catalog
from azlogs_pipeline.local.generator import GeneratorOptions, generate
from azlogs_pipeline.normalize.hour import build_hour
from azlogs_pipeline.normalize.schemas import table_schemas
from azlogs_pipeline.summarize.build import build_summary
from azlogs_pipeline.summarize.specs import DAY_GRAIN, SUMMARIES
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw

DOC = Path(__file__).resolve().parents[2] / "docs" / "queries.md"
START = datetime(2025, 3, 1, 6, tzinfo=UTC)
HOURS = 6
OPTIONS = GeneratorOptions(records=3_000, hours=HOURS, seed=3, start=START)
CA_CODES = {53003, 53000, 53001, 53002}


@dataclass(frozen=True)
class Query:
    number: str
    title: str
    columns: tuple[str, ...]
    sql: str


def parse_queries(text: str) -> list[Query]:
    """Each `## ` section: its title, its `Returns:` columns and its one ```sql block."""
    queries = []
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        title = section.splitlines()[0].strip()
        returns = re.search(r"^Returns: (.+)$", section, flags=re.MULTILINE)
        blocks = re.findall(r"^```sql\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
        assert returns and len(blocks) == 1, f"section {title!r}: one Returns: line, one sql block"
        number = re.match(r"(\d+)\. ", title)
        queries.append(
            Query(
                number.group(1) if number else "extra",
                title,
                tuple(re.findall(r"`([^`]+)`", returns.group(1))),
                blocks[0],
            )
        )
    return queries


QUERIES = parse_queries(DOC.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Lake:
    data_dir: Path
    truth: dict[str, Any]
    records: list[dict[str, Any]]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    data_dir = tmp_path_factory.mktemp("queries")
    generated = generate(OPTIONS)
    write_raw(data_dir, generated.records)
    hours = [START + timedelta(hours=h) for h in range(HOURS + 1)]
    for hour in hours:
        build_hour(data_dir, hour)
    for spec in SUMMARIES:
        starts = sorted({h.replace(hour=0) for h in hours}) if spec.grain == DAY_GRAIN else hours
        for start in starts:
            build_summary(data_dir, spec.name, start)
    ensure_catalog(data_dir, table_schemas())
    return Lake(data_dir, generated.ground_truth, generated.records)


def run(lake: Lake, query: Query) -> list[dict[str, Any]]:
    with connect_read_only(lake.data_dir) as con:
        con.execute("SET TimeZone = 'UTC'")
        relation = con.sql(query.sql)
        columns, rows = relation.columns, relation.fetchall()
    assert tuple(columns) == query.columns, f"{query.title}: columns differ from its Returns: line"
    return [dict(zip(columns, row, strict=True)) for row in rows]


# -- what each query must find -------------------------------------------------------------------


def scenario(lake: Lake, kind: str) -> dict[str, Any]:
    [found] = [s for s in lake.truth["scenarios"] if s["kind"] == kind]
    return found


def lowered(values: Any) -> set[str]:
    return {str(v).lower() for v in values if v is not None}


def signin_props(lake: Lake) -> list[dict[str, Any]]:
    return [
        r["properties"]
        for r in lake.records
        if str(r.get("category", "")).endswith("SignInLogs")
        and isinstance(r.get("properties"), dict)
    ]


def check_failures_by_dimension(lake: Lake, rows: list[dict[str, Any]]) -> None:
    totals: Counter[tuple[str, str]] = Counter()
    for row in rows:
        totals[(row["dimension"], str(row["value"]).lower())] += row["failures"]
    spray = scenario(lake, "password_spray")
    brute = scenario(lake, "distributed_brute_force")
    assert totals[("ip", spray["entity"])] >= spray["details"]["distinct_users"]
    assert totals[("user", brute["entity"].lower())] >= brute["details"]["failures"]


def detection_check(kind: str, column: str) -> Callable[[Lake, list[dict[str, Any]]], None]:
    def check(lake: Lake, rows: list[dict[str, Any]]) -> None:
        assert scenario(lake, kind)["entity"].lower() in lowered(r[column] for r in rows)

    return check


def check_legacy(lake: Lake, rows: list[dict[str, Any]]) -> None:
    user = scenario(lake, "legacy_auth_success")["entity"].lower()
    assert any(r["user_principal_name"].lower() == user and r["successes"] >= 1 for r in rows)


def check_mfa(lake: Lake, rows: list[dict[str, Any]]) -> None:
    fatigue = scenario(lake, "mfa_fatigue")
    [row] = [r for r in rows if r["user_principal_name"].lower() == fatigue["entity"].lower()]
    assert row["mfa_fatigue"] is True
    assert row["denials"] >= fatigue["details"]["denials"]


def check_ca_failures(lake: Lake, rows: list[dict[str, Any]]) -> None:
    sent = sum(
        1
        for p in signin_props(lake)
        if (p.get("status") or {}).get("errorCode") in CA_CODES
        or p.get("conditionalAccessStatus") == "failure"
    )
    assert rows and sum(r["failures"] for r in rows) <= sent


def check_lockouts(lake: Lake, rows: list[dict[str, Any]]) -> None:
    sent = {
        (p["status"]["errorCode"], p.get("userPrincipalName"))
        for p in signin_props(lake)
        if (p.get("status") or {}).get("errorCode") in (50057, 50053)
    }
    kinds = {50057: "disabled_account", 50053: "smart_lockout"}
    assert {(r["kind"], r["user_principal_name"]) for r in rows} == {
        (kinds[code], upn) for code, upn in sent
    }


def check_high_risk(lake: Lake, rows: list[dict[str, Any]]) -> None:
    sent = {
        p.get("userPrincipalName")
        for p in signin_props(lake)
        if "high" in (p.get("riskLevelDuringSignIn"), p.get("riskLevelAggregated"))
        or p.get("riskState") == "atRisk"
    }
    assert sent and {r["user_principal_name"] for r in rows} == sent


def check_risky_users(lake: Lake, rows: list[dict[str, Any]]) -> None:
    assert sum(r["users"] for r in rows) > 0
    today = [u for r in rows for u in (r["became_risky_today"] or [])]
    assert len(today) == len(set(today))


def check_risk_days(lake: Lake, rows: list[dict[str, Any]]) -> None:
    sent = {
        r["properties"]["id"]
        for r in lake.records
        if r.get("category") == "UserRiskEvents" and isinstance(r.get("properties"), dict)
    }
    assert sum(r["detections"] for r in rows) == len(sent)
    travel = scenario(lake, "impossible_travel")
    if travel["details"]["risk_event_ids"]:
        assert any(
            (r["risk_event_type"], r["risk_level"], r["detection_timing_type"])
            == ("unlikelyTravel", "medium", "offline")
            for r in rows
        )


def check_privileged_and_cross_tenant(lake: Lake, rows: list[dict[str, Any]]) -> None:
    assert {r["finding"] for r in rows} <= {"cross_tenant", "single_factor_privileged"}
    for row in rows:
        crossed = row["home_tenant_id"] != row["resource_tenant_id"]
        assert crossed == (row["finding"] == "cross_tenant")
        if not crossed:
            assert row["authentication_requirement"] == "singleFactorAuthentication"


def check_audit(lake: Lake, rows: list[dict[str, Any]]) -> None:
    expected = Counter(h["kind"] for h in lake.truth["audit_highlights"])
    assert set(expected) == {
        "privileged_role_assignment",
        "created_then_deleted",
        "guest_to_member",
        "app_credential_change",
    }
    assert Counter(r["highlight"] for r in rows) == expected


def check_top(lake: Lake, rows: list[dict[str, Any]]) -> None:
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows


CHECKS: dict[str, Callable[[Lake, list[dict[str, Any]]], None]] = {
    "1": check_failures_by_dimension,
    "2": detection_check("password_spray", "ip_address"),
    "3": detection_check("distributed_brute_force", "user"),
    "4": detection_check("new_country", "user"),
    "5": detection_check("impossible_travel", "user"),
    "6": check_legacy,
    "7": check_mfa,
    "8": check_ca_failures,
    "9": check_lockouts,
    "10": check_high_risk,
    "11": check_risky_users,
    "12": check_risk_days,
    "13": check_privileged_and_cross_tenant,
    "14": check_audit,
    "extra": check_top,
}


def test_the_doc_answers_every_analyst_question() -> None:
    assert [q.number for q in QUERIES if q.number != "extra"] == [str(n) for n in range(1, 15)]


@pytest.mark.parametrize("query", QUERIES, ids=[f"q{q.number}" for q in QUERIES])
def test_query_runs_and_finds_what_the_generator_sent(lake: Lake, query: Query) -> None:
    assert lake.truth["skipped_scenarios"] == []
    rows = run(lake, query)
    CHECKS[query.number](lake, rows)
