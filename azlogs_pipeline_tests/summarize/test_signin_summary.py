"""signin_summary: counts per hour, type, app, country and result that reconcile with signin_logs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from azlogs_pipeline.lake.paths import summary_hour_file, table_hour_file
from azlogs_pipeline.summarize import SummaryResult, build_summary
from azlogs_pipeline_tests.summarize.generated_lake import GeneratedLake
from azlogs_pipeline_tests.summarize.signins import T0, signin, write_signins

TABLE_TOTALS = """
    SELECT
        count(*),
        count(*) FILTER (WHERE result = 'success'),
        count(*) FILTER (WHERE result = 'failure'),
        count(*) FILTER (WHERE result = 'interrupted'),
        count(DISTINCT (signin_type, coalesce(app_display_name, app_id), location_country, result))
    FROM read_parquet($file)
"""


def test_every_hour_reconciles_with_signin_logs(
    generated_lake: GeneratedLake, built_summaries: dict[str, list[SummaryResult]]
) -> None:
    results = built_summaries["signin_summary"]
    assert sum(r.rows for r in results) > 0
    attempts_total = 0
    for result in results:
        table_file = table_hour_file(generated_lake.data_dir, "signin_logs", result.window_start)
        rows = result.data.to_pylist()
        if not table_file.exists():
            assert rows == [] and result.path is None
            continue
        expected = duckdb.execute(TABLE_TOTALS, {"file": str(table_file)}).fetchone()
        got = (
            sum(r["attempts"] for r in rows),
            sum(r["successes"] for r in rows),
            sum(r["failures"] for r in rows),
            sum(r["interrupts"] for r in rows),
            len(rows),
        )
        assert got == expected, result.window_start
        for row in rows:
            assert row["hour"] == result.window_start
            assert sum(count for _, count in row["failures_by_error_code"]) == row["failures"]
        attempts_total += got[0]
    assert attempts_total == generated_lake.signin_rows


def test_counts_of_hand_built_signins(tmp_path: Path) -> None:
    rows = [
        signin(T0, "a@contoso.com", authentication_requirement="multiFactorAuthentication"),
        signin(T0, "b@contoso.com", ip="198.51.100.20", risk_level_during_signin="high"),
        signin(T0, "b@contoso.com", ip="198.51.100.20", risk_level_aggregated="medium"),
        signin(T0, "c@contoso.com", risk_level_during_signin="low"),
        signin(T0, "a@contoso.com", code=50126),
        signin(T0, "b@contoso.com", code=50126),
        signin(T0, "c@contoso.com", code=53003, client="IMAP4"),
        signin(T0, "c@contoso.com", code=50074, conditional_access_status="failure"),
        signin(T0, "d@contoso.com", code=50140),
        signin(T0 + timedelta(hours=1), "e@contoso.com"),  # another hour
        signin(
            T0,
            "svc",
            signin_type="service_principal",
            user_id=None,
            city="Paris",
            user_principal_name=None,
        ),  # a workload: no user
    ]
    write_signins(tmp_path, rows)
    result = build_summary(tmp_path, "signin_summary", T0 + timedelta(minutes=30))
    assert result.path == summary_hour_file(tmp_path, "signin_summary", T0)
    by_key = {(r["signin_type"], r["country"], r["result"]): r for r in result.data.to_pylist()}
    assert set(by_key) == {
        ("interactive", "DE", "success"),
        ("interactive", "DE", "failure"),
        ("interactive", "DE", "interrupted"),
        ("service_principal", "FR", "success"),
    }
    ok = by_key[("interactive", "DE", "success")]
    assert (ok["attempts"], ok["successes"]) == (4, 4)
    assert (ok["distinct_users"], ok["distinct_ips"]) == (3, 2)
    assert (ok["mfa_required"], ok["risky_signins"]) == (1, 2)
    failed = by_key[("interactive", "DE", "failure")]
    assert failed["failures"] == 4 and failed["distinct_users"] == 3
    assert dict(failed["failures_by_error_code"]) == {50126: 2, 53003: 1, 50074: 1}
    assert (failed["legacy_auth"], failed["ca_failures"]) == (1, 2)
    assert by_key[("interactive", "DE", "interrupted")]["interrupts"] == 1
    assert by_key[("service_principal", "FR", "success")]["distinct_users"] == 0
    assert sum(r["attempts"] for r in by_key.values()) == 10


def test_an_hour_without_signins_has_no_file_and_stale_files_go(tmp_path: Path) -> None:
    hour = write_signins(tmp_path, [signin(T0)])[0]
    first = build_summary(tmp_path, "signin_summary", hour)
    assert first.path is not None and pq.read_table(first.path).num_rows == 1
    table_hour_file(tmp_path, "signin_logs", hour).unlink()  # the hour's sign-ins went away
    again = build_summary(tmp_path, "signin_summary", hour)
    assert again.rows == 0 and again.path is None
    assert not summary_hour_file(tmp_path, "signin_summary", hour).exists()
