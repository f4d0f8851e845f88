"""feed_detections and feed_health: this pipeline's feed blinded (Activity log, in Azure's shape),
a category gone silent, and how every category arrived per hour."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from azlogs_pipeline.lake.parquet import write_parquet_atomic
from azlogs_pipeline.lake.paths import summary_hour_file, table_hour_file
from azlogs_pipeline.normalize.tables import TABLE_NAMES
from azlogs_pipeline.summarize import (
    DetectionThresholds,
    SummaryResult,
    build_summary,
    summary_schema,
)
from azlogs_pipeline_tests.summarize.azure_records import TENANT, iso, land
from azlogs_pipeline_tests.summarize.generated_lake import (
    DETECTION_TABLES,
    GeneratedLake,
    land_generated,
)
from azlogs_pipeline_tests.summarize.quality import QUALITY_HEADER, findings, score
from azlogs_pipeline_tests.summarize.signins import T0

FAMILY = "feed_detections"
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
LONG_HOURS = 60
LONG_SILENT = "ServicePrincipalSignInLogs"
LONG_HISTORY = 36  # hours: covers a night, when ProvisioningLogs stop (their normal gap)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def long_lake(tmp_path_factory: pytest.TempPathFactory) -> GeneratedLake:
    """60 hours whose last 5 lose every ServicePrincipalSignInLogs record."""
    return land_generated(
        tmp_path_factory.mktemp("long-lake"),
        records=6_000,
        hours=LONG_HOURS,
        seed=5,
        silent_category=LONG_SILENT,
        silent_hours=5,
        tables=DETECTION_TABLES,
    )


@pytest.mark.timeout(900)  # may build the shared lake and the family's summaries
def test_every_injected_scenario_is_found_and_nothing_in_the_background(
    generated_lake: GeneratedLake,
    built_summaries: dict[str, list[SummaryResult]],
    long_lake: GeneratedLake,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = [QUALITY_HEADER]
    found = findings(built_summaries[FAMILY])
    tampered = [
        s for s in generated_lake.ground_truth["scenarios"] if s["kind"] == "log_feed_tampered"
    ]
    assert tampered, "the scenario is injected"

    def same_change(row: dict, s: dict) -> bool:
        start, end = parse(s["window"]["start"]), parse(s["window"]["end"])
        return row["entity"] == s["entity"] and start <= row["window_end"] <= end

    mine = [r for r in found if r["detection"] == "log_feed_tampered"]
    lines.append(score("log_feed_tampered", mine, tampered, same_change))
    assert [r for r in found if r["detection"] != "log_feed_tampered"] == [], "7 days: no silence"
    # The long lake: history shortened to 36 hours (the lake holds 60), silence at its defaults.
    limits = DetectionThresholds(silence_history_hours=LONG_HISTORY)
    for hour in long_lake.hours:
        build_summary(long_lake.data_dir, "feed_health", hour)
    hours = long_lake.hours[LONG_HISTORY:]
    long_found = findings(
        [build_summary(long_lake.data_dir, FAMILY, h, thresholds=limits) for h in hours]
    )
    silent = [s for s in long_lake.ground_truth["scenarios"] if s["kind"] == "category_went_silent"]

    def same_silence(row: dict, s: dict) -> bool:
        start = parse(s["window"]["start"])
        return (
            row["entity"] == s["entity"]
            and start - HOUR < row["window_start"] < start
            and row["window_end"] == row["window_start"] + 3 * HOUR
        )

    mine = [r for r in long_found if r["detection"] == "category_went_silent"]
    lines.append(score("category_went_silent", mine, silent, same_silence))
    with capsys.disabled():
        print(f"\n{FAMILY} on generated data\n" + "\n".join(lines))


# -- log_feed_tampered edges (Activity log records as Azure sends them) -----------------------------


def activity(when: datetime, operation: str, resource: str, result: str = "Success") -> dict:
    caller = "admin@contoso.com"
    return {
        "time": iso(when),
        "resourceId": resource,
        "operationName": operation,
        "category": "Administrative",
        "resultType": result,
        "resultSignature": "Succeeded." if result == "Success" else "Started.",
        "durationMs": "0",
        "callerIpAddress": "198.51.100.7",
        "correlationId": "c0ffee00-0000-4000-8000-000000000001",
        "identity": {
            "authorization": {
                "scope": resource,
                "action": operation,
                "evidence": {"role": "Owner", "principalId": "abc", "principalType": "User"},
            },
            "claims": {
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": caller,
                "http://schemas.microsoft.com/identity/claims/objectidentifier": "uid-admin",
            },
        },
        "level": "Informational",
        "location": "global",
        "properties": {"eventCategory": "Administrative", "entity": resource, "message": operation},
        "tenantId": TENANT,
    }


SUB = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590"


def test_log_feed_tampered_edges(tmp_path: Path) -> None:
    t = T0 + 5 * MINUTE
    hub = f"{SUB}/resourceGroups/rg-logs/providers/Microsoft.EventHub/namespaces/ns-logs"
    records = [
        activity(
            t,
            "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE",
            f"{SUB}/providers/microsoft.insights/diagnosticSettings/to-hub",
        ),
        activity(
            t,
            "microsoft.aadiam/diagnosticSettings/write",
            "/providers/microsoft.aadiam/diagnosticSettings/azlogs",
        ),
        activity(
            t, "Microsoft.EventHub/namespaces/eventhubs/delete", f"{hub}/eventhubs/insights-logs"
        ),
        activity(t, "Microsoft.EventHub/namespaces/delete", hub),
        activity(
            t,
            "Microsoft.EventHub/namespaces/authorizationRules/regenerateKeys/action",
            f"{hub}/authorizationRules/RootManageSharedAccessKey",
        ),
    ]
    found = findings(
        [
            build_summary(tmp_path / "a", FAMILY, h)
            for h in land(tmp_path / "a", records, ["activity_logs"])
        ]
    )
    assert sorted(r["window_end"] == t for r in found) == [True] * 5
    assert {r["entity"] for r in found} == {r["resourceId"] for r in records}
    assert all(r["severity"] == "high" and r["user_id"] == "uid-admin" for r in found)
    quiet = [
        activity(
            t,
            "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/READ",
            f"{SUB}/providers/microsoft.insights/diagnosticSettings/to-hub",
        ),
        activity(
            t,
            "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE",
            f"{SUB}/providers/microsoft.insights/diagnosticSettings/to-hub",
            result="Start",
        ),
        activity(
            t,
            "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE",
            f"{SUB}/providers/microsoft.insights/diagnosticSettings/to-hub",
            result="Failure",
        ),
        activity(
            t, "Microsoft.EventHub/namespaces/eventhubs/write", f"{hub}/eventhubs/insights-logs"
        ),
    ]
    hours = land(tmp_path / "b", quiet, ["activity_logs"])
    assert findings([build_summary(tmp_path / "b", FAMILY, h) for h in hours]) == []


# -- category_went_silent edges (feed_health rows, the rule's input, written straight) ----------


def hourly(start: datetime, hours: int, skip: frozenset[int] = frozenset()) -> list[datetime]:
    """One record of SignInLogs at half past each hour (but the `skip`ped ones)."""
    return [start + h * HOUR + 30 * MINUTE for h in range(hours) if h not in skip]


def write_feed_health(data_dir: Path, times: list[datetime]) -> list[datetime]:
    """feed_health rows of SignInLogs for `times` (one record each), one file per hour (each
    replacing that hour's); the hours written."""
    schema = summary_schema("feed_health")
    by_hour: dict[datetime, list[datetime]] = {}
    for t in times:
        by_hour.setdefault(t.replace(minute=0, second=0, microsecond=0), []).append(t)
    for hour, stamps in by_hour.items():
        row = {
            "hour": hour,
            "category": "SignInLogs",
            "records": len(stamps),
            "median_delay_seconds": 60.0,
            "p95_delay_seconds": 60.0,
            "max_delay_seconds": 60.0,
            "first_event_time": min(stamps),
            "last_event_time": max(stamps),
            "last_record_id": f"r-{max(stamps).isoformat()}",
            "partitions": [],
        }
        table = pa.Table.from_pylist([row], schema=schema)
        write_parquet_atomic(table, summary_hour_file(data_dir, "feed_health", hour))
    return sorted(by_hour)


def remove_feed_health(data_dir: Path, hour: datetime) -> None:
    summary_hour_file(data_dir, "feed_health", hour).unlink()


def silence_findings(data_dir: Path, last: datetime, **thresholds: Any) -> list[dict]:
    """feed_detections of the 6 hours from the hour of `last` (the latest record written)."""
    limits = DetectionThresholds(**thresholds)
    first = last.replace(minute=0, second=0, microsecond=0)
    probe = [first + h * HOUR for h in range(6)]
    return findings([build_summary(data_dir, FAMILY, h, thresholds=limits) for h in probe])


@pytest.mark.slow  # a week of feed_health hours, each probed with its week of history
def test_category_went_silent_edges(tmp_path: Path) -> None:
    # One feed_health lake, changed between the cases (writing a week of hours is the cost).
    start = T0 - 200 * HOUR
    week = hourly(start, 168)
    last = week[-1]
    write_feed_health(tmp_path, week)
    found = silence_findings(tmp_path, last)
    assert [(r["entity"], r["window_start"], r["window_end"]) for r in found] == [
        ("SignInLogs", last, last + 3 * HOUR)
    ]
    assert found[0]["hour"] == (last + 3 * HOUR).replace(minute=0)
    assert found[0]["record_ids"] == [f"r-{last.isoformat()}"]
    assert len(silence_findings(tmp_path, last, silent_category_hours=2)) == 1
    # back after 3 h less a minute: not silent (and, with hours missing now, no longer "always")
    for back, expected in ((3 * HOUR - MINUTE, 0), (3 * HOUR, 0), (3 * HOUR + SECOND, 1)):
        (tail,) = write_feed_health(tmp_path, [last + back])  # the same hour each time
        assert len(silence_findings(tmp_path, last + back)) == expected, back
    remove_feed_health(tmp_path, tail)
    remove_feed_health(tmp_path, week[-1].replace(minute=0))  # 167 hours: not a week
    short = hourly(start, 167)
    assert silence_findings(tmp_path, short[-1]) == []
    assert len(silence_findings(tmp_path, short[-1], silence_history_hours=167)) == 1
    write_feed_health(tmp_path, [last])
    remove_feed_health(tmp_path, week[3].replace(minute=0))  # an hour without a record
    assert silence_findings(tmp_path, last) == [], "not always"


# -- feed_health ---------------------------------------------------------------------------------


def test_feed_health_counts_every_category_of_the_hour(
    generated_lake: GeneratedLake, built_summaries: dict[str, list[SummaryResult]]
) -> None:
    import pyarrow.parquet as pq

    for result in built_summaries["feed_health"][:6]:
        expected: dict[str, int] = {}
        for table in TABLE_NAMES:
            path = table_hour_file(generated_lake.data_dir, table, result.window_start)
            if path.is_file():
                for category in pq.read_table(path, columns=["category"]).column(0).to_pylist():
                    expected[category] = expected.get(category, 0) + 1
        rows = result.data.to_pylist()
        assert {r["category"]: r["records"] for r in rows} == expected
        for row in rows:
            assert (
                row["median_delay_seconds"] <= row["p95_delay_seconds"] <= row["max_delay_seconds"]
            )
            assert sum(p["records"] for p in row["partitions"]) == row["records"]
            assert {(p["eventhub"], p["partition_id"]) for p in row["partitions"]} == {
                ("adlogs", "0")
            }
