"""The code location and the instance settings load as Dagster will load them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from azlogs_pipeline.definitions import defs
from azlogs_pipeline.instance import dagster_home


def test_definitions_validate_and_hold_the_drain_asset() -> None:
    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert "raw_events" in keys
    asset = defs.resolve_assets_def("raw_events")
    checks = {key.name for key in asset.check_keys}
    assert {"no_dead_letters", "nothing_lost_to_retention"} <= checks


def test_instance_queues_runs_one_per_partition_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = dagster_home(tmp_path)
    assert home == (tmp_path / "dagster").resolve()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        limits = queue.tag_concurrency_limits
        assert {
            "key": "dagster/partition",
            "value": {"applyLimitPerUniqueValue": True},
            "limit": 1,
        } in limits
        assert instance.run_monitoring_enabled
