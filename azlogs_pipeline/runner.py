"""One full pass without a daemon (`azlogs run`): every step through Dagster, recorded in the instance.

The runs land in the same Dagster instance the UI reads (``$DAGSTER_HOME``, or ``<data dir>/dagster``
with the project's dagster.yaml), so `dagster dev` shows them with their metadata and checks.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from azlogs_pipeline.assets.ingest import EVENTHUB_PARTITIONS, partition_key, raw_events
from azlogs_pipeline.config import Settings
from azlogs_pipeline.ingest.status import list_partitions
from azlogs_pipeline.resources import AzlogsSettings

PROJECT_DAGSTER_YAML = Path(__file__).resolve().parents[1] / "dagster.yaml"


def dagster_home(data_dir: Path) -> Path:
    """$DAGSTER_HOME when set; else ``<data dir>/dagster``, with a copy of the project's
    dagster.yaml (refreshed when the project's file changes: edit that one)."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    home = (data_dir / "dagster").resolve()
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
        result = dg.materialize(
            [raw_events],
            partition_key=key,
            instance=instance,
            resources={"azlogs": AzlogsSettings(data_dir=str(settings.data_dir))},
            tags={"azlogs/trigger": "azlogs run"},
            run_config=_QUIET_CONSOLE,
            raise_on_error=False,
        )
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
