"""The ready queries (`azlogs query NAME`, docs/queries.md): every one runs on the read-only
catalog of a generated lake with its options bound, returns the columns it promises and finds what
the generator put there; docs/queries.md is rendered from them; an option is data, never SQL.

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

import orjson
import pytest

from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline.lake.read_only import connect_read_only, read_only_statements
from azlogs_pipeline.local.generator import GeneratorOptions, generate
from azlogs_pipeline.normalize.hour import build_hour
from azlogs_pipeline.queries import PARAMETERS, QueryError, ReadyQuery, bind, ready_queries
from azlogs_pipeline.queries.docs import render
from azlogs_pipeline.summarize.build import build_summary
from azlogs_pipeline.summarize.report import DETECTION_KINDS, SIGNIN_DETECTION_KINDS
from azlogs_pipeline.summarize.specs import DAY_GRAIN, SUMMARIES
from azlogs_pipeline_tests.desk.conftest import azlogs
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw

DOC = Path(__file__).resolve().parents[2] / "docs" / "queries.md"
START = datetime(2025, 3, 1, 6, tzinfo=UTC)
HOURS = 6
OPTIONS = GeneratorOptions(records=3_000, hours=HOURS, seed=3, start=START)
CA_CODES = {53003, 53000, 53001, 53002}
Check = Callable[["Lake", list[dict[str, Any]]], None]
NOW = START + timedelta(hours=HOURS + 1)
QUERIES = ready_queries()


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
    refresh_catalog(data_dir)
    return Lake(data_dir, generated.ground_truth, generated.records)


def run(lake: Lake, query: ReadyQuery, **options: str | None) -> list[dict[str, Any]]:
    with connect_read_only(lake.data_dir) as con:
        read_only_statements(con, query.sql)
        cursor = con.execute(query.sql, bind(query, options, NOW))
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    assert tuple(columns) == query.returns, f"{query.name}: columns differ from its returns: line"
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


def check_user_activity(lake: Lake, rows: list[dict[str, Any]]) -> None:
    user = activity_user(lake).lower()
    sent = len(  # the generator sends some records twice: the table holds each once
        {p["id"] for p in signin_props(lake) if str(p.get("userPrincipalName", "")).lower() == user}
    )
    signins = [r for r in rows if r["source"] == "signin"]
    assert sent and len(signins) == sent
    assert [r["event_time"] for r in rows] == sorted(r["event_time"] for r in rows)


def check_detections(lake: Lake, rows: list[dict[str, Any]]) -> None:
    kinds = {r["detection"] for r in rows}
    for kind in ("password_spray", "distributed_brute_force", "mfa_fatigue", "impossible_travel"):
        assert scenario(lake, kind)["entity"].lower() in lowered(
            r["entity"] for r in rows if r["detection"] == kind
        )
    assert {"new_country", "legacy_auth_success"} <= kinds
    assert {r["severity"] for r in rows} <= {"medium", "high"}


def finding_check(kind: str, column: str, severity: str | None = None) -> Check:
    """The query lists the injected scenario's entity (with its severity)."""

    def check(lake: Lake, rows: list[dict[str, Any]]) -> None:
        entity = scenario(lake, kind)["entity"].lower()
        mine = [r for r in rows if str(r[column]).lower() == entity]
        assert mine, (kind, rows)
        if severity is not None:
            assert {r["severity"] for r in mine} == {severity}

    return check


def check_silence(lake: Lake, rows: list[dict[str, Any]]) -> None:
    # 6 hours of data: no category can have arrived in every hour of 7 days (the test with a
    # silence is in summarize/test_feed_detections.py); the query answers with its columns.
    assert rows == []


def check_feed_health(lake: Lake, rows: list[dict[str, Any]]) -> None:
    sent = Counter(str(r.get("category") or r.get("Category")) for r in lake.records)
    got: Counter[str] = Counter()
    for row in rows:
        got[row["category"]] += row["records"]
        assert row["median_delay_seconds"] <= row["p95_delay_seconds"] <= row["max_delay_seconds"]
    assert got and set(got) <= set(sent)
    assert all(got[c] <= sent[c] for c in got), "records counted once (duplicates dropped)"


def activity_user(lake: Lake) -> str:
    return str(scenario(lake, "distributed_brute_force")["entity"])


CHECKS: dict[str, Callable[[Lake, list[dict[str, Any]]], None]] = {
    "failed-signins": check_failures_by_dimension,
    "password-spray": detection_check("password_spray", "ip_address"),
    "brute-force": detection_check("distributed_brute_force", "user"),
    "new-country": detection_check("new_country", "user"),
    "impossible-travel": detection_check("impossible_travel", "user"),
    "legacy-auth": check_legacy,
    "mfa-denials": check_mfa,
    "conditional-access-failures": check_ca_failures,
    "lockouts": check_lockouts,
    "high-risk-signins": check_high_risk,
    "risky-users": check_risky_users,
    "risk-detections": check_risk_days,
    "privileged-single-factor": check_privileged_and_cross_tenant,
    "audit-highlights": check_audit,
    "top-risky-users": check_top,
    "user-activity": check_user_activity,
    "detections": check_detections,
    "ca-policy-weakened": finding_check("ca_policy_weakened", "policy"),
    "app-credential-added": finding_check("app_credential_added", "app", "high"),
    "privileged-role-assigned": finding_check("privileged_role_assigned", "member"),
    "consent-to-risky-permissions": finding_check("consent_to_risky_permissions", "app", "high"),
    "auth-method-changed-after-risk": finding_check("auth_method_changed_after_risk", "user"),
    "session-from-multiple-countries": finding_check(
        "session_from_multiple_countries", "session_id"
    ),
    "device-code-signin": finding_check("device_code_signin", "user"),
    "disabled-account-probing": finding_check("disabled_account_probing", "ip_address"),
    "success-after-attack": finding_check("success_after_attack", "entity"),
    "log-feed-tampered": finding_check("log_feed_tampered", "resource"),
    "category-went-silent": check_silence,
    "feed-health": check_feed_health,
}


def test_every_analyst_question_has_a_ready_query_and_every_query_a_check() -> None:
    assert [q.question for q in QUERIES if q.question is not None] == list(range(1, 15))
    assert {q.name for q in QUERIES} == set(CHECKS)


def test_docs_are_rendered_from_the_ready_queries() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert render(text) == text, "docs/queries.md is out of date with the .sql files: run make docs"
    for query in QUERIES:
        assert f"`{query.usage()}`" in text


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_every_parameter_is_bound_in_the_sql(query: ReadyQuery) -> None:
    assert set(re.findall(r"\$([a-z_]+)", query.sql)) == set(query.params)


@pytest.mark.slow  # the generated lake
@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_query_runs_and_finds_what_the_generator_sent(lake: Lake, query: ReadyQuery) -> None:
    assert lake.truth["skipped_scenarios"] == []
    options = {"user": activity_user(lake)} if "user" in query.required else {}
    rows = run(lake, query, **options)
    CHECKS[query.name](lake, rows)


def query(name: str) -> ReadyQuery:
    [found] = [q for q in QUERIES if q.name == name]
    return found


@pytest.mark.slow  # the generated lake
def test_options_filter(lake: Lake) -> None:
    user = activity_user(lake)
    everything = run(lake, query("failed-signins"))
    mine = run(lake, query("failed-signins"), user=user.upper())
    assert {r["value"].lower() for r in mine if r["dimension"] == "user"} == {user.lower()}
    assert sum(r["failures"] for r in mine) < sum(r["failures"] for r in everything)
    since = START + timedelta(hours=3)
    recent = run(lake, query("failed-signins"), since=since.isoformat())
    assert recent and min(r["hour"] for r in recent) >= since
    assert run(lake, query("failed-signins"), since="1h") == []  # NOW is an hour past the data
    assert run(lake, query("failed-signins"), since=f"{HOURS + 1}h") == everything
    high = run(lake, query("detections"), severity="high")
    assert high and {r["severity"] for r in high} == {"high"}
    assert len(run(lake, query("detections"), severity="medium")) > len(high)


@pytest.mark.slow  # the generated lake
@pytest.mark.parametrize(
    "value",
    [
        "x' OR '1'='1",
        "' OR 1=1 --",
        "'); COPY (SELECT 1) TO '/tmp/azlogs-injected.csv'; --",
        '" OR ""="',
    ],
)
def test_an_option_is_data_not_sql(lake: Lake, value: str) -> None:
    for name in ("failed-signins", "user-activity", "audit-highlights"):
        assert run(lake, query(name), user=value) == [], name
    assert not Path("/tmp/azlogs-injected.csv").exists()
    with pytest.raises(QueryError, match="--severity"):
        bind(query("detections"), {"severity": "high' OR '1'='1"}, NOW)
    with pytest.raises(QueryError, match="--since"):
        bind(query("detections"), {"since": "1d; DROP TABLE x"}, NOW)


def test_a_query_refuses_options_it_does_not_take_and_needs_its_required_ones() -> None:
    with pytest.raises(QueryError, match="top-risky-users does not take --user"):
        bind(query("top-risky-users"), {"user": "alice@contoso.com"}, NOW)
    with pytest.raises(QueryError, match="user-activity needs --user"):
        bind(query("user-activity"), dict.fromkeys(PARAMETERS), NOW)


@pytest.mark.slow  # the generated lake
def test_azlogs_query_command(lake: Lake) -> None:
    listed = azlogs(lake.data_dir, "query", "list", "--format", "csv")
    assert listed.returncode == 0
    assert [line.split(",")[0] for line in listed.stdout.splitlines()[1:]] == [
        q.name for q in QUERIES
    ]
    high = azlogs(lake.data_dir, "query", "detections", "--severity", "high", "--format", "json")
    assert high.returncode == 0, high.stderr
    rows = [orjson.loads(line) for line in high.stdout.splitlines()]
    assert rows and {r["severity"] for r in rows} == {"high"}
    user = activity_user(lake)
    table = azlogs(lake.data_dir, "query", "user-activity", "--user", user, "--since", "2025-03-01")
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:2] == [
        "event_time",
        "source",
    ]
    injected = azlogs(lake.data_dir, "query", "failed-signins", "--user", "x' OR '1'='1")
    assert injected.returncode == 0 and injected.stdout.splitlines()[-1] == "(0 rows)"
    shown = azlogs(lake.data_dir, "query", "mfa-denials", "--sql")
    assert shown.stdout.strip() == query("mfa-denials").sql + ";"
    for args, message in [
        (("nope",), "no ready query named 'nope'. Ready queries: failed-signins"),
        (("top-risky-users", "--user", "a@b.c"), "does not take --user"),
        (("user-activity",), "user-activity needs --user: azlogs query user-activity --user UPN"),
        (("detections", "--since", "yesterday"), "--since 'yesterday' is neither an age"),
    ]:
        refused = azlogs(lake.data_dir, "query", *args)
        assert refused.returncode == 2 and message in refused.stderr, (args, refused.stderr)


def test_every_newer_detection_has_a_ready_query() -> None:
    names = {q.name for q in QUERIES}
    newer = set(DETECTION_KINDS) - set(SIGNIN_DETECTION_KINDS)
    assert newer and {kind.replace("_", "-") for kind in newer} <= names
    assert "feed-health" in names
