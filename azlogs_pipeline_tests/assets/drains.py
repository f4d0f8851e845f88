"""`raw_events` materialized in process, the way the asset tests drain one partition: an
ephemeral instance that knows the partitions, the run, and what it reported."""

from __future__ import annotations

from typing import Any

import dagster as dg

from azlogs_pipeline.assets.ingest import EVENTHUB_PARTITIONS, raw_events
from azlogs_pipeline.resources import AzlogsSettings


def drain_instance(*keys: str) -> dg.DagsterInstance:
    """An ephemeral instance with the Event Hub partitions `keys` (`<hub>:<partition>`)."""
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(EVENTHUB_PARTITIONS.name or "", list(keys))
    return instance


def drain(instance: dg.DagsterInstance, key: str, **options: Any) -> dg.ExecuteInProcessResult:
    """One run of `raw_events` for partition `key` (settings from the environment); `options`
    go to `dg.materialize` (e.g. raise_on_error=False)."""
    return dg.materialize(
        [raw_events],
        partition_key=key,
        instance=instance,
        resources={"azlogs": AzlogsSettings()},
        **options,
    )


def drain_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    """The values of the one raw_events materialization's metadata."""
    (materialization,) = result.asset_materializations_for_node("raw_events")
    return {k: v.value for k, v in materialization.metadata.items()}


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    """The run's asset check evaluations by check name."""
    return {
        evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()
    }
