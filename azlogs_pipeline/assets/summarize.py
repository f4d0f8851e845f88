"""Summaries and detections: one hourly (or daily) partitioned asset per `SummarySpec`.

`summary_asset(spec)` makes the asset of any summary: it depends on the normalized tables the spec
reads, with the look-back declared as a time-window partition mapping (so lineage and backfills
know that an hour of `signin_detections` reads 14 days of `signin_logs`), builds the partition with
`build_summary` and reports metadata. Add a summary by appending its spec to `SUMMARIES` and,
when it needs its own numbers, a metadata function to `METADATA`.

An hour's detections read the tables of earlier hours as they are when it is built: `azlogs run`
builds hours oldest first, and a UI backfill follows the declared mapping. Late records rebuild
their own hour (sensor); later hours whose look-back they fall in keep their findings until those
hours are rebuilt (a backfill over the range).
"""

import math
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from azlogs_pipeline.assets.partitions import DAILY, DAYS_PER_RUN, HOURLY, HOURS_PER_RUN
from azlogs_pipeline.assets.risk import risk_metadata
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline.summarize.build import SummaryResult, build_summaries
from azlogs_pipeline.summarize.checks import reconcile_signins
from azlogs_pipeline.summarize.report import (
    FAMILY_KINDS,
    detection_counts,
    markdown_preview,
    markdown_table,
    signin_totals,
)
from azlogs_pipeline.summarize.specs import DAY_GRAIN, DETECTION_FAMILIES, SUMMARIES, SummarySpec
from azlogs_pipeline.summarize.thresholds import DEFAULT_THRESHOLDS, DetectionThresholds

PREVIEW_ROWS = 10
CHECK_RECONCILES_WITH_SIGNINS = "reconciles_with_signin_logs"

MetadataFn = Callable[[SummaryResult], dict[str, Any]]


def common_metadata(result: SummaryResult) -> dict[str, Any]:
    """Row count, files read, bytes and path: every summary reports these."""
    return {
        "dagster/row_count": result.rows,
        "table_files_read": result.files,
        "bytes_written": result.bytes_written,
        "path": str(result.path) if result.path else "(no rows this partition)",
    }


def signin_summary_metadata(result: SummaryResult) -> dict[str, Any]:
    totals = signin_totals(result.data)
    preview = markdown_preview(
        result.data,
        [("failures", "descending"), ("attempts", "descending")],
        ["signin_type", "app", "country", "result", "attempts", "failures", "distinct_users"],
        PREVIEW_ROWS,
    )
    return {
        **common_metadata(result),
        "signins": totals["attempts"],
        **{name: value for name, value in totals.items() if name != "attempts"},
        "preview": dg.MetadataValue.md(preview),
    }


def detections_metadata(result: SummaryResult) -> dict[str, Any]:
    """Findings per detection of the family, and the first few."""
    counts = detection_counts(result.data, FAMILY_KINDS[result.name])
    preview = markdown_preview(
        result.data,
        [("severity", "ascending"), ("window_end", "ascending"), ("detection", "ascending")],
        ["severity", "detection", "entity", "window_end", "description"],
        PREVIEW_ROWS,
    )
    return {
        **common_metadata(result),
        "detections": sum(counts.values()),
        **{f"detections_{kind}": count for kind, count in counts.items()},
        "preview": dg.MetadataValue.md(preview),
    }


METADATA: dict[str, MetadataFn] = {
    "signin_summary": signin_summary_metadata,
    **dict.fromkeys(DETECTION_FAMILIES, detections_metadata),
    **risk_metadata(common_metadata),
}
"""Per-summary metadata; summaries not listed report `common_metadata` plus a preview."""


def default_metadata(result: SummaryResult) -> dict[str, Any]:
    preview = result.data.slice(0, PREVIEW_ROWS).to_pylist()
    columns = result.data.column_names[:8]
    return {
        **common_metadata(result),
        "preview": dg.MetadataValue.md(markdown_table(preview, columns)),
    }


class DetectionThresholdsConfig(dg.Config):
    """Run config of every detection family: the thresholds (defaults and sources in
    azlogs_pipeline/summarize/thresholds.py)."""

    spray_window_minutes: int = DEFAULT_THRESHOLDS.spray_window_minutes
    spray_min_users: int = DEFAULT_THRESHOLDS.spray_min_users
    spray_error_codes: list[int] = list(DEFAULT_THRESHOLDS.spray_error_codes)
    brute_force_min_failures: int = DEFAULT_THRESHOLDS.brute_force_min_failures
    brute_force_min_locations: int = DEFAULT_THRESHOLDS.brute_force_min_locations
    new_country_history_days: int = DEFAULT_THRESHOLDS.new_country_history_days
    impossible_travel_speed_kmh: float = DEFAULT_THRESHOLDS.impossible_travel_speed_kmh
    impossible_travel_min_km: float = DEFAULT_THRESHOLDS.impossible_travel_min_km
    mfa_fatigue_min_denials: int = DEFAULT_THRESHOLDS.mfa_fatigue_min_denials
    mfa_fatigue_window_minutes: int = DEFAULT_THRESHOLDS.mfa_fatigue_window_minutes
    mfa_fatigue_success_within_minutes: int = DEFAULT_THRESHOLDS.mfa_fatigue_success_within_minutes
    legacy_auth_quiet_hours: int = DEFAULT_THRESHOLDS.legacy_auth_quiet_hours
    privileged_roles: list[str] = list(DEFAULT_THRESHOLDS.privileged_roles)
    pim_initiators: list[str] = list(DEFAULT_THRESHOLDS.pim_initiators)
    credential_after_consent_hours: int = DEFAULT_THRESHOLDS.credential_after_consent_hours
    risky_consent_scopes: list[str] = list(DEFAULT_THRESHOLDS.risky_consent_scopes)
    auth_method_activities: list[str] = list(DEFAULT_THRESHOLDS.auth_method_activities)
    auth_method_after_risk_hours: int = DEFAULT_THRESHOLDS.auth_method_after_risk_hours
    feed_tamper_operations: list[str] = list(DEFAULT_THRESHOLDS.feed_tamper_operations)
    silent_category_hours: int = DEFAULT_THRESHOLDS.silent_category_hours
    silence_history_hours: int = DEFAULT_THRESHOLDS.silence_history_hours
    session_min_countries: int = DEFAULT_THRESHOLDS.session_min_countries
    session_window_hours: int = DEFAULT_THRESHOLDS.session_window_hours
    device_code_history_days: int = DEFAULT_THRESHOLDS.device_code_history_days
    probing_window_minutes: int = DEFAULT_THRESHOLDS.probing_window_minutes
    success_after_attack_hours: int = DEFAULT_THRESHOLDS.success_after_attack_hours

    def thresholds(self) -> DetectionThresholds:
        values: dict[str, Any] = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in self.model_dump().items()
        }
        return DetectionThresholds(**values)


def _lookback_mapping(spec: SummarySpec) -> dg.TimeWindowPartitionMapping:
    """The upstream hours a partition reads: its window plus `lookback_hours` before it (in the
    downstream's partition units: hours, or days for daily summaries)."""
    units = spec.lookback_hours if spec.grain != DAY_GRAIN else math.ceil(spec.lookback_hours / 24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        return dg.TimeWindowPartitionMapping(
            start_offset=-units, allow_nonexistent_upstream_partitions=True
        )


DAY_AFTER_ITS_HOURS = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("an hour of the day was rebuilt and none is in progress")
"""When the daemon rebuilds a day's daily summaries: after any of the day's table hours was
rebuilt, once none of them is still being built (hours with no data stay unbuilt, so Dagster's
`eager()`, which waits for every parent partition, would never fire)."""


def summary_asset(spec: SummarySpec) -> dg.AssetsDefinition:
    """The Dagster asset of one summary (thin: `build_summary` does the work).

    Every detection family takes its thresholds as run config (`DetectionThresholdsConfig`)."""
    metadata_fn = METADATA.get(spec.name, default_metadata)
    checks = (
        [dg.AssetCheckSpec(CHECK_RECONCILES_WITH_SIGNINS, asset=spec.name)]
        if spec.name == "signin_summary"
        else []
    )
    with warnings.catch_warnings():  # backfill_policy is beta on `asset`
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        decorate = dg.asset(
            name=spec.name,
            group_name="summaries",
            kinds={"duckdb", "parquet"},
            partitions_def=DAILY if spec.grain == DAY_GRAIN else HOURLY,
            deps=[
                dg.AssetDep(upstream, partition_mapping=_lookback_mapping(spec))
                for upstream in (*spec.tables, *spec.summaries)
            ],
            check_specs=checks,
            pool="lake_writers",
            backfill_policy=DAYS_PER_RUN if spec.grain == DAY_GRAIN else HOURS_PER_RUN,
            automation_condition=DAY_AFTER_ITS_HOURS if spec.grain == DAY_GRAIN else None,
            description=(
                f"`{spec.name}` (summarize/sql/{spec.sql_file}): one Parquet file per "
                f"{spec.grain}, reading {', '.join((*spec.tables, *spec.summaries))}"
                + (f" and the {spec.lookback_hours} hours before" if spec.lookback_hours else "")
                + "."
            ),
        )

    def body(
        context: dg.AssetExecutionContext, azlogs: AzlogsSettings, thresholds: DetectionThresholds
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        data_dir = azlogs.lake_data_dir()  # a build needs no Event Hubs settings
        window = context.partition_time_window
        results = build_summaries(
            data_dir, spec.name, window.start, window.end, thresholds=thresholds
        )
        yield dg.MaterializeResult(metadata=range_metadata(results, metadata_fn))
        if checks:
            yield reconcile_check(data_dir, results)

    if spec.name in DETECTION_FAMILIES:

        @decorate
        def _detections(
            context: dg.AssetExecutionContext,
            azlogs: AzlogsSettings,
            config: DetectionThresholdsConfig,
        ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
            yield from body(context, azlogs, config.thresholds())

        return _detections

    @decorate
    def _summary(
        context: dg.AssetExecutionContext, azlogs: AzlogsSettings
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        yield from body(context, azlogs, DEFAULT_THRESHOLDS)

    return _summary


def range_metadata(results: list[SummaryResult], metadata_fn: MetadataFn) -> dict[str, Any]:
    """A run's metadata: the summary's own for one partition; totals for several (or none: the
    run's hours had no data)."""
    if len(results) == 1:
        return {**metadata_fn(results[0]), "partitions_built": 1}
    return {
        "dagster/row_count": sum(r.rows for r in results),
        "partitions_built": len(results),
        "table_files_read": sum(r.files for r in results),
        "bytes_written": sum(r.bytes_written for r in results),
    }


def reconcile_check(data_dir: Path, results: list[SummaryResult]) -> dg.AssetCheckResult:
    """sum(attempts) of each hour = rows of the hour's signin_logs file (nothing lost or doubled)."""
    found = reconcile_signins(data_dir, results)
    return dg.AssetCheckResult(
        check_name=CHECK_RECONCILES_WITH_SIGNINS,
        passed=not found.hours_not_reconciled,
        metadata={
            "attempts": found.attempts,
            "signin_logs_rows": found.signin_logs_rows,
            "hours_not_reconciled": dg.MetadataValue.json(found.hours_not_reconciled),
        },
    )


SUMMARY_ASSETS: list[dg.AssetsDefinition] = [summary_asset(spec) for spec in SUMMARIES]
SUMMARY_ASSETS_BY_NAME: dict[str, dg.AssetsDefinition] = {
    spec.name: asset for spec, asset in zip(SUMMARIES, SUMMARY_ASSETS, strict=True)
}
HOURLY_SUMMARY_ASSETS: list[dg.AssetsDefinition] = [
    asset for spec, asset in zip(SUMMARIES, SUMMARY_ASSETS, strict=True) if spec.grain != DAY_GRAIN
]
"""The summaries built in the same run as the tables of an hour (sensor, `azlogs run`)."""
DAILY_SUMMARY_ASSETS: list[dg.AssetsDefinition] = [
    asset for spec, asset in zip(SUMMARIES, SUMMARY_ASSETS, strict=True) if spec.grain == DAY_GRAIN
]
"""The summaries of a UTC day: built after the day's hours (`azlogs run`; in the daemon, by
declarative automation once a table hour of the day is rebuilt and none is in progress)."""
