"""Daily summaries follow their hours: the daemon's automation condition requests a day of
`risk_events_daily` once an hour of that day was rebuilt and none is still in progress, and
`azlogs run`'s runner builds the days of the hours it built."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from azlogs_pipeline.assets.normalize import normalized_tables
from azlogs_pipeline.assets.summarize import DAILY_SUMMARY_ASSETS, SUMMARY_ASSETS_BY_NAME
from azlogs_pipeline.definitions import defs
from azlogs_pipeline.lake.paths import summary_day_file
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline.runner import normalize_hours
from azlogs_pipeline_tests.fixtures.settings import only_a_data_dir
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw

pytestmark = pytest.mark.integration  # Dagster instances that execute runs

HOUR = datetime(2025, 3, 1, 9, tzinfo=UTC)
DAILY = SUMMARY_ASSETS_BY_NAME["risk_events_daily"]


def risk_event(event_id: str, minute: int) -> dict[str, object]:
    return {
        "category": "UserRiskEvents",
        "time": f"2025-03-01T09:{minute:02d}:00Z",
        "properties": {
            "id": event_id,
            "activityDateTime": f"2025-03-01T09:{minute:02d}:00Z",
            "detectedDateTime": f"2025-03-01T09:{minute:02d}:00Z",
            "userId": "u-1",
            "userPrincipalName": "ana@contoso.com",
            "riskEventType": "unfamiliarFeatures",
            "riskLevel": "medium",
            "riskState": "atRisk",
            "detectionTimingType": "realtime",
        },
    }


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    only_a_data_dir(monkeypatch, tmp_path)  # rebuilding summaries needs no Event Hub
    write_raw(tmp_path, [risk_event("r-1", 5), risk_event("r-2", 40)])
    return tmp_path


def requested_days(result: dg.EvaluateAutomationConditionsResult) -> set[str]:
    return {key for key in result.get_requested_partitions(DAILY.key) if key is not None}


def test_a_rebuilt_hour_requests_its_day_once(lake: Path) -> None:
    hour_key = HOUR.strftime("%Y-%m-%d-%H:%M")
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert requested_days(first) == set(), "nothing was built yet: no day to summarize"

        dg.materialize(
            [normalized_tables],
            partition_key=hour_key,
            instance=instance,
            resources={"azlogs": AzlogsSettings(data_dir=str(lake))},
        )
        second = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=first.cursor
        )
        assert requested_days(second) == {"2025-03-01"}

        third = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=second.cursor
        )
        assert requested_days(third) == set(), "a handled day is not requested again"


def test_runner_builds_the_days_of_the_hours_it_built(lake: Path) -> None:
    hour_key = HOUR.strftime("%Y-%m-%d-%H:%M")
    with dg.instance_for_test() as instance:
        runs = normalize_hours(instance, lake, [hour_key])
    assert [run.partition_key for run in runs] == [hour_key, "2025-03-01"]
    assert all(run.success for run in runs), [run.error for run in runs]
    assert runs[1].summary_rows == {asset.key.path[-1]: 1 for asset in DAILY_SUMMARY_ASSETS}
    rows = pq.read_table(summary_day_file(lake, "risk_events_daily", HOUR)).to_pylist()
    assert [(row["risk_event_type"], row["detections"]) for row in rows] == [
        ("unfamiliarFeatures", 2)
    ]
