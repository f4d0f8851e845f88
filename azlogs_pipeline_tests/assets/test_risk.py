"""Risk and audit summaries through Dagster: real `materialize()` of their partitions, numeric
metadata per level / kind and a Markdown preview, lineage over the look-back hours."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from azlogs_pipeline.assets import summarize as summary_assets
from azlogs_pipeline.assets.risk import RISK_NUMBERS
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline.summarize.build import build_summary
from azlogs_pipeline.summarize.specs import summary_spec
from azlogs_pipeline_tests.fixtures.settings import only_a_data_dir
from azlogs_pipeline_tests.summarize.test_risk_audit import (
    GLOBAL_ADMIN,
    HOUR,
    at,
    audit,
    detection,
    role_add,
    signin,
    snapshot,
    write_rows,
)

pytestmark = pytest.mark.integration  # Dagster executes the summaries' runs


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    only_a_data_dir(monkeypatch, tmp_path)  # summaries never connect to Event Hubs or storage
    write_rows(
        tmp_path,
        "risky_users",
        [
            snapshot("a", at(10), "high", "atRisk"),
            snapshot("b", at(-300), "medium", "atRisk"),
            snapshot("c", at(-200), "none", "remediated"),
        ],
    )
    write_rows(
        tmp_path,
        "user_risk_events",
        [
            detection("a", at(5), "unlikelyTravel", "high", "offline", "atRisk"),
            detection("b", at(-300), "newCountry", "medium", "realtime", "atRisk"),
            detection("b", at(20), "newCountry", "medium", "realtime", "atRisk"),
        ],
    )
    write_rows(tmp_path, "signin_logs", [signin("a", at(1), "failure", "FR")])
    write_rows(
        tmp_path,
        "audit_logs",
        [
            audit("Add user", at(-90), "u1"),
            audit("Delete user", at(20), "u1"),
            role_add(at(30), "u2", "Global Administrator", GLOBAL_ADMIN),
        ],
    )
    return tmp_path


def materialize(data_dir: Path, name: str, partition: str) -> dg.AssetMaterialization:
    asset = summary_assets.summary_asset(summary_spec(name))
    result = dg.materialize(
        [asset],
        partition_key=partition,
        resources={"azlogs": AzlogsSettings(data_dir=str(data_dir))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    return event.materialization


HOUR_KEY = f"{HOUR:%Y-%m-%d-%H}:00"
LATER = "2025-09-10-12:00"
"""An hour whose longest look-back (90 days) starts after the partitions' first hour."""


def values(materialization: dg.AssetMaterialization) -> dict[str, object]:
    return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}


def test_risky_users_current_reports_users_by_level(lake: Path) -> None:
    meta = values(materialize(lake, "risky_users_current", HOUR_KEY))
    assert meta["dagster/row_count"] == 3
    assert {k: meta[k] for k in meta if k.startswith("risky_users")} == {
        "risky_users": 2,
        "risky_users_high": 1,
        "risky_users_medium": 1,
        "risky_users_low": 0,
        "risky_users_hidden": 0,
        "risky_users_none": 0,
    }
    assert meta["became_risky_this_hour"] == 1
    preview = str(meta["preview"])
    assert preview.startswith("| user_principal_name | risk_level")
    assert "a@contoso.com" in preview and "c@contoso.com" not in preview


def test_risk_events_daily_reports_detections_by_level_and_timing(lake: Path) -> None:
    meta = values(materialize(lake, "risk_events_daily", f"{HOUR:%Y-%m-%d}"))
    assert meta["detections"] == 3
    assert (meta["detections_high"], meta["detections_medium"], meta["detections_low"]) == (1, 2, 0)
    assert (meta["detections_offline"], meta["detections_realtime"]) == (1, 2)
    assert "| newCountry | medium | realtime | 2 |" in str(meta["preview"])


def test_top_risky_users_and_audit_highlights_metadata(lake: Path) -> None:
    top = values(materialize(lake, "top_risky_users", HOUR_KEY))
    assert (top["users_listed"], top["users_high"], top["users_medium"]) == (2, 1, 1)
    assert top["detections_7d"] == 3
    assert str(top["preview"]).splitlines()[2].startswith("| 1 | a@contoso.com | high")
    audit_meta = values(materialize(lake, "audit_highlights", HOUR_KEY))
    assert {k: audit_meta[k] for k in audit_meta if k.startswith("highlights")} == {
        "highlights": 2,
        "highlights_privileged_role_assignment": 1,
        "highlights_created_then_deleted": 1,
        "highlights_guest_to_member": 0,
        "highlights_app_credential_change": 0,
    }


def test_metadata_of_an_empty_partition(lake: Path) -> None:
    empty = HOUR + timedelta(days=100)  # past every look-back
    for name, own in RISK_NUMBERS.items():
        meta = own(build_summary(lake, name, empty))
        assert meta["preview"].value == "_no rows in this partition_"
        assert all(v == 0 for k, v in meta.items() if k != "preview")


@pytest.mark.parametrize(
    ("name", "upstream_hours"),
    [
        ("risky_users_current", 90 * 24 + 1),
        ("top_risky_users", 7 * 24 + 1),
        ("audit_highlights", 25),
    ],
)
def test_lineage_covers_the_look_back(name: str, upstream_hours: int) -> None:
    asset = summary_assets.SUMMARY_ASSETS_BY_NAME[name]
    hourly = asset.partitions_def
    assert hourly is not None
    for table in summary_spec(name).tables:
        mapping = asset.get_partition_mapping(dg.AssetKey(table))
        assert mapping is not None
        upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
            hourly.subset_with_partition_keys([LATER]), hourly, hourly
        ).partitions_subset
        keys = sorted(upstream.get_partition_keys())
        assert len(keys) == upstream_hours
        assert keys[-1] == LATER
