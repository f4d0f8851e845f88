"""One full pass without a daemon (`azlogs run`): every step through Dagster, recorded in the instance.

The runs land in the same Dagster instance the UI reads (``$DAGSTER_HOME``, or ``<data dir>/dagster``
with the project's dagster.yaml), so `dagster dev` shows them with their metadata and checks.
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from azlogs_pipeline.assets.ingest import (
    EVENTHUB_PARTITIONS,
    HOURS_TOUCHED,
    partition_key,
    raw_events,
)
from azlogs_pipeline.assets.normalize import HOURLY, normalized_tables
from azlogs_pipeline.automation import hour_partition_keys
from azlogs_pipeline.config import Settings, load_local_tool
from azlogs_pipeline.ingest.status import list_partitions
from azlogs_pipeline.lake.paths import dagster_home_dir
from azlogs_pipeline.resources import AzlogsSettings

PROJECT_DAGSTER_YAML = Path(__file__).resolve().parents[1] / "dagster.yaml"


def dagster_home(data_dir: Path) -> Path:
    """$DAGSTER_HOME when set; else ``<data dir>/dagster``, with a copy of the project's
    dagster.yaml (refreshed when the project's file changes: edit that one)."""
    configured = load_local_tool("DAGSTER_HOME")
    if configured:
        return Path(configured)
    home = dagster_home_dir(data_dir)
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if PROJECT_DAGSTER_YAML.exists() and (
        not target.exists() or target.read_bytes() != PROJECT_DAGSTER_YAML.read_bytes()
    ):
        shutil.copyfile(PROJECT_DAGSTER_YAML, target)
    return home


@contextmanager
def open_instance(data_dir: Path) -> Iterator[dg.DagsterInstance]:
    home = dagster_home(data_dir)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


@dataclass(frozen=True)
class DrainRun:
    partition_key: str
    success: bool
    run_id: str
    metadata: dict[str, object]
    error: str | None = None


_QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
"""The runs' full logs are in the Dagster instance; the terminal gets warnings and errors."""


def _failure(result: dg.ExecuteInProcessResult) -> str | None:
    """The message of the first step failure, without its traceback."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            return error.message.strip()
    return None


def _materialize(
    asset: dg.AssetsDefinition, key: str, instance: dg.DagsterInstance, settings: Settings
) -> dg.ExecuteInProcessResult:
    """One partition of one asset, in this process, recorded in the instance like any run."""
    return dg.materialize(
        [asset],
        partition_key=key,
        instance=instance,
        resources={"azlogs": AzlogsSettings(data_dir=str(settings.data_dir))},
        tags={"azlogs/trigger": "azlogs run"},
        run_config=_QUIET_CONSOLE,
        raise_on_error=False,
    )


def register_eventhub_partitions(instance: dg.DagsterInstance, settings: Settings) -> list[str]:
    """Ask the hubs for their partitions and add any new ones to the dynamic partitions."""
    keys = [partition_key(hub, pid) for hub, pid in list_partitions(settings)]
    known = set(instance.get_dynamic_partitions(EVENTHUB_PARTITIONS.name or ""))
    new = [key for key in keys if key not in known]
    if new:
        instance.add_dynamic_partitions(EVENTHUB_PARTITIONS.name or "", new)
    return keys


def drain_all(instance: dg.DagsterInstance, settings: Settings) -> list[DrainRun]:
    """Drain every partition of every configured hub, one Dagster run per partition."""
    runs = []
    for key in register_eventhub_partitions(instance, settings):
        result = _materialize(raw_events, key, instance, settings)
        metadata: dict[str, object] = {}
        for event in result.get_asset_materialization_events():
            materialization = event.materialization
            metadata = {k: v.value for k, v in materialization.metadata.items()}
        runs.append(DrainRun(key, result.success, result.run_id, metadata, _failure(result)))
    return runs


def last_drains(instance: dg.DagsterInstance) -> dict[str, datetime]:
    """When each Event Hub partition was last drained, by partition key."""
    found: dict[str, datetime] = {}
    for key in instance.get_dynamic_partitions(EVENTHUB_PARTITIONS.name or ""):
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=raw_events.key, asset_partitions=[key]), limit=1
        ).records
        if records:
            found[key] = datetime.fromtimestamp(records[0].timestamp, UTC)
    return found


@dataclass(frozen=True)
class HourRun:
    partition_key: str
    success: bool
    run_id: str
    rows: dict[str, int]
    error: str | None = None


def hours_touched(runs: list[DrainRun]) -> list[str]:
    """The hourly partition keys that the given drains landed records in."""
    hours: set[str] = set()
    for run in runs:
        hours.update(str(hour) for hour in run.metadata.get(HOURS_TOUCHED, []) or [])  # type: ignore[union-attr]
    return hour_partition_keys(hours, HOURLY)


def normalize_hours(
    instance: dg.DagsterInstance, settings: Settings, partition_keys: list[str]
) -> list[HourRun]:
    """Build every table of each given hour, one Dagster run per hour."""
    runs = []
    for key in partition_keys:
        result = _materialize(normalized_tables, key, instance, settings)
        rows = {
            event.asset_key.path[-1]: int(event.materialization.metadata["dagster/row_count"].value)  # type: ignore[arg-type]
            for event in result.get_asset_materialization_events()
            if event.asset_key is not None
        }
        runs.append(HourRun(key, result.success, result.run_id, rows, _failure(result)))
    return runs
