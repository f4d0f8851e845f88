"""One full pass without a daemon (`azlogs run`): every step through Dagster, recorded in the instance.

The runs land in the same Dagster instance the UI reads (``$DAGSTER_HOME``, or ``<data dir>/dagster``
with the project's dagster.yaml), so `dagster dev` shows them with their metadata and checks.
"""

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from azlogs_pipeline.assets.ingest import EVENTHUB_PARTITIONS, raw_events
from azlogs_pipeline.assets.normalize import normalized_tables
from azlogs_pipeline.assets.partitions import PartitionRange, day_ranges, hour_ranges, range_tags
from azlogs_pipeline.assets.summarize import DAILY_SUMMARY_ASSETS, HOURLY_SUMMARY_ASSETS
from azlogs_pipeline.automation import partition_bounds, register_eventhub_partitions
from azlogs_pipeline.config import (
    Settings,
    load_drain_parallelism,
    load_slot_wait_seconds,
)
from azlogs_pipeline.errors import AzlogsError
from azlogs_pipeline.instance import ensure_pool_limit
from azlogs_pipeline.lake.reconcile import BuildPlan, plan_builds
from azlogs_pipeline.normalize.ranges import range_bytes
from azlogs_pipeline.owed import add_owed, settle
from azlogs_pipeline.pool import GRACE_SECONDS, Job, Listener, Outcome, run_jobs
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline.run_slots import SlotTimeout, run_tags, wait_for_slot
from azlogs_pipeline.stopping import StopRequest
from azlogs_pipeline.vocabulary import eventhub_partition_key

SUMMARY_NAMES = frozenset(
    key.path[-1] for asset in [*HOURLY_SUMMARY_ASSETS, *DAILY_SUMMARY_ASSETS] for key in asset.keys
)


@dataclass(frozen=True)
class DrainRun:
    """One drain of one partition; ``interrupted``: stopped (or never started) by a stop request."""

    partition_key: str
    success: bool
    run_id: str
    metadata: dict[str, object]
    error: str | None = None
    interrupted: bool = False


_QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
"""The runs' full logs, stack traces included, are in the Dagster instance; the terminal gets the
project's own warnings (Python logging) and, at the end, one line per failed run."""


def _explained_names() -> set[str]:
    names, todo = set(), [AzlogsError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


_INTERRUPTIONS = frozenset({"DagsterExecutionInterruptedError", "KeyboardInterrupt"})


def _errors(result: dg.ExecuteInProcessResult) -> Iterator[Any]:
    """The errors of the run's failed steps, then the run's own (a failure before any step ran:
    its resource's setup, the catalog refresh, failed or was interrupted)."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            yield event.step_failure_data.error
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None) if event.is_job_failure else None
        if error is not None:
            yield error


def _failure(result: dg.ExecuteInProcessResult) -> str | None:
    """The message of the first failure, without its traceback: the project's own explanation
    (an `AzlogsError`) when there is one in the chain, else the innermost cause."""
    explained = _explained_names()
    for error in _errors(result):
        while error.cls_name not in explained and error.cause is not None:
            error = error.cause
        message = error.message.strip()
        prefix, _, rest = message.partition(": ")
        if rest and prefix.endswith(error.cls_name or "?"):
            return rest
        return message or error.cls_name or "interrupted"
    return None


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """True when the run failed because it was interrupted (a signal to its process)."""
    for error in _errors(result):
        while error is not None:
            if error.cls_name in _INTERRUPTIONS:
                return True
            error = error.cause
    return False


def _materialize(
    asset: dg.AssetsDefinition | list[dg.AssetsDefinition],
    key: str,
    instance: dg.DagsterInstance,
    data_dir: Path,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """One partition of one asset (or of several, in dependency order; or the range that `tags`
    name), in this process, recorded in the instance like any run (tagged with this process, see
    run_slots).

    Raises :class:`SlotTimeout` when the assets' pool has no free slot within the bound.
    """
    assets = asset if isinstance(asset, list) else [asset]
    bound = load_slot_wait_seconds()
    for pool in sorted({a.op.pool for a in assets if a.op.pool}):
        wait_for_slot(instance, pool, bound)
    return dg.materialize(
        assets,
        partition_key=key or None,
        instance=instance,
        resources={"azlogs": AzlogsSettings(data_dir=str(data_dir))},
        tags={**run_tags(), **(tags or {})},
        run_config=_QUIET_CONSOLE,
        raise_on_error=False,
    )


def drain_one(instance: dg.DagsterInstance, settings: Settings, key: str) -> DrainRun:
    """Drain one partition in this process, as one Dagster run."""
    try:
        result = _materialize(raw_events, key, instance, settings.data_dir)
    except SlotTimeout as exc:
        return DrainRun(key, False, "-", {}, str(exc))
    metadata: dict[str, object] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        metadata = {k: v.value for k, v in materialization.metadata.items()}
    return DrainRun(
        key, result.success, result.run_id, metadata, _failure(result), _interrupted(result)
    )


def worker_job(name: str, kind: str, keys: list[str], data_dir: Path) -> Job:
    """A step of `azlogs run` in its own process (worker.py), on the same data dir and instance."""
    command = [sys.executable, "-m", "azlogs_pipeline.worker", kind, *keys]
    return Job(name, command, {**os.environ, "AZLOGS_DATA_DIR": str(data_dir)})


def _unfinished(outcome: Outcome, what: str, stop: StopRequest | None) -> tuple[str, bool]:
    """Why a worker gave no result, and whether a stop request is the reason."""
    stopped = stop is not None and stop.requested.is_set()
    if not outcome.started or (stopped and outcome.returncode == 0):
        return f"{what} not started: azlogs run was interrupted", True
    if outcome.killed:
        return f"{what} was killed: it had not stopped {GRACE_SECONDS:.0f} s after asked to", True
    return f"the {what} process exited with code {outcome.returncode} without a result", stopped


def drain_all(
    instance: dg.DagsterInstance,
    settings: Settings,
    *,
    parallelism: int | None = None,
    listener: Listener | None = None,
    stop: StopRequest | None = None,
) -> list[DrainRun]:
    """Drain every partition of every configured hub, one Dagster run per partition, at most
    ``parallelism`` (AZLOGS_DRAIN_PARALLELISM) at once. The runs are recorded in the instance of
    ``settings.data_dir`` (see `dagster_home`).

    One worker process per slot drains its share of the partitions one after the other
    (partition i in worker i mod the slots): a worker's start-up (Python, Dagster and the SDKs
    imported, the instance opened: 7-8 s on a 2-core machine) is paid once per slot, not once
    per partition. ``listener`` hears each message under the partition key it is about."""
    keys = register_eventhub_partitions(instance, settings)
    ensure_pool_limit(instance, raw_events.op.pool)
    slots = max(1, min(parallelism or load_drain_parallelism(), len(keys)))
    shares = [share for slot in range(slots) if (share := keys[slot::slots])]
    jobs = [worker_job(" ".join(share), "drain", share, settings.data_dir) for share in shares]

    def hear(name: str, message: dict[str, Any]) -> None:
        if listener is not None:
            listener(_partition_of(message) or name, message)

    outcomes = run_jobs(jobs, slots, hear, stop)
    found = {
        run.partition_key: run
        for outcome in outcomes
        for run in (DrainRun(**m["drain"]) for m in outcome.messages if "drain" in m)
    }
    runs = []
    for outcome, share in zip(outcomes, shares, strict=True):
        for key in share:
            if key in found:
                runs.append(found[key])
                continue
            error, interrupted = _unfinished(outcome, "drain", stop)
            runs.append(DrainRun(key, False, "", {}, error, interrupted))
    order = {key: number for number, key in enumerate(keys)}
    return sorted(runs, key=lambda run: order[run.partition_key])


def _partition_of(message: dict[str, Any]) -> str | None:
    """The partition key a drain worker's message is about (a progress report or a result)."""
    if "progress" in message:
        progress = message["progress"]
        return eventhub_partition_key(progress["eventhub"], progress["partition_id"])
    if "drain" in message:
        return str(message["drain"]["partition_key"])
    return None


def not_drained(runs: list[DrainRun]) -> list[str]:
    """One line per partition that was not drained: what happened and what to do."""
    lines = []
    for run in runs:
        if run.interrupted:
            lines.append(f"{run.partition_key} not drained: {run.error}")
        elif not run.success:
            lines.append(f"{run.partition_key} failed (run {run.run_id}): {run.error}")
        elif run.metadata.get("status") == "owned_elsewhere":
            lines.append(f"{run.partition_key} not drained: {run.metadata.get('held_by')}")
    return lines


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
class BuildRun:
    """One Dagster run that built a range of hours (tables and hourly summaries, or hourly
    summaries alone) or of days (daily summaries)."""

    partition_key: str
    """The range's first key, or `first...last`."""
    success: bool
    run_id: str
    rows: dict[str, int]
    error: str | None = None
    summary_rows: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    kind: str = "hours"
    """`hours` (tables and hourly summaries), `summaries` (hourly summaries) or `days`."""
    partitions: int = 1
    """Hours (or days) in the range."""


HOURS_KIND, SUMMARY_KIND, DAYS_KIND = "hours", "summaries", "days"


def lake_plan(data_dir: Path) -> BuildPlan:
    """What the lake says needs building now, within the partitions that exist."""
    return plan_builds(data_dir, *partition_bounds())


OnRun = Callable[[BuildRun], bool]


def _run_steps(
    steps: Iterable[tuple[list[dg.AssetsDefinition], PartitionRange, str]],
    instance: dg.DagsterInstance,
    data_dir: Path,
    on_run: OnRun | None,
    runs: list[BuildRun],
) -> bool:
    """Run the steps in turn into `runs`; False once `on_run` asked to stop."""
    for assets, keys, kind in steps:
        runs.append(_build(assets, keys, instance, data_dir, kind))
        if on_run is not None and not on_run(runs[-1]):
            return False
    return True


def _ranges(hour_keys: Sequence[str], plan: BuildPlan) -> list[PartitionRange]:
    """The hours in ranges of up to `MAX_HOURS_PER_RUN`, or of up to
    `MAX_SPARSE_HOURS_PER_RUN` while their raw files fit one ranged table build's budget."""
    return hour_ranges(hour_keys, plan.raw_bytes, range_bytes())


def build_pending(
    instance: dg.DagsterInstance, data_dir: Path, on_run: OnRun | None = None
) -> list[BuildRun]:
    """Build everything the lake says needs building, oldest first, in few runs: the table hours
    (with their hourly summaries) in ranges of up to `MAX_HOURS_PER_RUN` hours (more when they
    are small: `_ranges`), then the hourly
    summary partitions that follow from them (look-backs), then the days of the daily summaries;
    again while some waited for a summary they read (built in the round before).
    ``on_run`` hears of each run as it ends; when it returns False, no further run starts."""
    runs: list[BuildRun] = []
    tables = [normalized_tables, *HOURLY_SUMMARY_ASSETS]
    plan = lake_plan(data_dir)
    steps = [(tables, keys, HOURS_KIND) for keys in _ranges(plan.table_hours, plan)]
    if not _run_steps(steps, instance, data_dir, on_run, runs):
        return runs
    for _ in range(len(HOURLY_SUMMARY_ASSETS) + 1):  # a summary read by another: a round each
        plan = lake_plan(data_dir)
        steps = [
            ([asset], keys, SUMMARY_KIND)
            for asset in HOURLY_SUMMARY_ASSETS
            for keys in _ranges(plan.summary_hours([key.path[-1] for key in asset.keys]), plan)
        ]
        daily = [key.path[-1] for asset in DAILY_SUMMARY_ASSETS for key in asset.keys]
        steps += [
            (DAILY_SUMMARY_ASSETS, keys, DAYS_KIND) for keys in day_ranges(plan.summary_days(daily))
        ]
        if not steps or not _run_steps(steps, instance, data_dir, on_run, runs):
            break
        if not plan.waiting_summaries or not all(run.success for run in runs[-len(steps) :]):
            break
    return runs


def normalize_hours(
    instance: dg.DagsterInstance,
    data_dir: Path,
    partition_keys: list[str],
    on_run: OnRun | None = None,
) -> list[BuildRun]:
    """Build every table of the given hours (hourly partition keys) and their hourly summaries,
    in ranges of up to `MAX_HOURS_PER_RUN` hours; then the daily summaries of their days."""
    lake_keys = [key.replace(":00", "") for key in partition_keys]
    tables = [normalized_tables, *HOURLY_SUMMARY_ASSETS]
    steps = [(tables, keys, HOURS_KIND) for keys in hour_ranges(lake_keys)]
    days = sorted({key[: len("YYYY-MM-DD")] for key in lake_keys})
    steps += [(DAILY_SUMMARY_ASSETS, keys, DAYS_KIND) for keys in day_ranges(days)]
    runs: list[BuildRun] = []
    _run_steps(steps, instance, data_dir, on_run, runs)
    return runs


def build_all(
    data_dir: Path,
    *,
    listener: Listener | None = None,
    stop: StopRequest | None = None,
) -> list[BuildRun]:
    """`build_pending` in a worker process, which a stop request ends after the run in progress
    (or by interrupting it: an hour's files are replaced whole or not at all)."""
    job = worker_job("builds", "build", [], data_dir)
    (outcome,) = run_jobs([job], 1, listener, stop)
    runs = [BuildRun(**m["build"]) for m in outcome.messages if "build" in m]
    stopped = stop is not None and stop.requested.is_set()
    if outcome.returncode != 0 and not stopped:
        error, _ = _unfinished(outcome, "build", stop)
        runs.append(BuildRun("builds", False, "", {}, error))
    return runs


def _build(
    assets: list[dg.AssetsDefinition],
    keys: PartitionRange,
    instance: dg.DagsterInstance,
    data_dir: Path,
    kind: str,
) -> BuildRun:
    try:
        result = _materialize(assets, "", instance, data_dir, range_tags(keys))
    except SlotTimeout as exc:
        return BuildRun(keys.label, False, "-", {}, str(exc), kind=kind, partitions=keys.size)
    rows: dict[str, int] = {}
    for event in result.get_asset_materialization_events():  # one per partition of a range,
        if event.asset_key is not None:  # each with the run's totals
            count = event.materialization.metadata["dagster/row_count"].value
            rows[event.asset_key.path[-1]] = int(count)  # type: ignore[arg-type]
    tables = {name: count for name, count in rows.items() if name not in SUMMARY_NAMES}
    summaries = {name: count for name, count in rows.items() if name in SUMMARY_NAMES}
    return BuildRun(
        keys.label,
        result.success,
        result.run_id,
        tables,
        _failure(result),
        summaries,
        _interrupted(result),
        kind,
        keys.size,
    )


def as_message(run: DrainRun | BuildRun) -> dict[str, Any]:
    """A run as a worker reports it (worker.py), for `DrainRun(**...)` / `BuildRun(**...)`."""
    return {"drain" if isinstance(run, DrainRun) else "build": asdict(run)}


def deliver_alerts_run(instance: dg.DagsterInstance, data_dir: Path) -> dict[str, object]:
    """One delivery pass (`alert_deliveries`) after the builds, recorded in the instance; its
    metadata. A failed post never fails it (see `azlogs_pipeline.alerts`)."""
    from azlogs_pipeline.assets.alerts import alert_deliveries

    result = _materialize(alert_deliveries, "", instance, data_dir)
    for event in result.get_asset_materialization_events():
        return {k: v.value for k, v in event.materialization.metadata.items()}
    return {"error": _failure(result) or "the delivery pass did not run"}


@dataclass(frozen=True)
class ReportRun:
    day: str
    success: bool
    run_id: str
    path: str | None = None
    error: str | None = None


def write_reports_run(
    instance: dg.DagsterInstance, data_dir: Path, days: list[str]
) -> list[ReportRun]:
    """The `security_report` of each UTC day (`YYYY-MM-DD`), one Dagster run per day."""
    from azlogs_pipeline.assets.reports import security_report

    runs = []
    for day in sorted(set(days)):
        result = _materialize(security_report, day, instance, data_dir)
        path = None
        for event in result.get_asset_materialization_events():
            path = str(event.materialization.metadata["path"].value)
        runs.append(ReportRun(day, result.success, result.run_id, path, _failure(result)))
    return runs


ALERTS_FLAG = "--alerts"


def report_and_alert(
    data_dir: Path,
    days: list[str],
    *,
    alerts: bool,
    listener: Listener | None = None,
    stop: StopRequest | None = None,
) -> tuple[list[ReportRun], dict[str, object] | None]:
    """The days' security reports, then one alert delivery pass (when `alerts`), with what
    earlier runs left of them (`owed.py`), in a worker process like the builds: a signal
    meanwhile is the stop request's (exit 130/143), not an interrupted Dagster step (exit 1)."""
    owed = add_owed(data_dir, days, alerts)
    if not owed.days and not owed.alerts:
        return [], None
    args = [ALERTS_FLAG] * owed.alerts + list(owed.days)
    (outcome,) = run_jobs([worker_job("reports", "finish", args, data_dir)], 1, listener, stop)
    reports = [ReportRun(**m["report"]) for m in outcome.messages if "report" in m]
    passes = [m["alerts"] for m in outcome.messages if "alerts" in m]
    settle(data_dir, [r.day for r in reports if r.success], bool(passes))
    stopped = stop is not None and stop.requested.is_set()
    if outcome.returncode != 0 and not stopped:
        error, _ = _unfinished(outcome, "report and alert", stop)
        reports.append(ReportRun("-", False, "", None, error))
    return reports, (passes[0] if passes else ({"error": "not run"} if owed.alerts else None))
