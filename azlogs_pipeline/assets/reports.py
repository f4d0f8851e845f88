"""`security_report`: the daily HTML security report, one file per UTC day (thin:
`azlogs_pipeline.daily_report` reads the catalog, draws and writes)."""

from collections.abc import Iterator

import dagster as dg

from azlogs_pipeline.alerts.findings import detection_summaries
from azlogs_pipeline.assets.partitions import DAILY
from azlogs_pipeline.assets.summarize import DAY_AFTER_ITS_HOURS
from azlogs_pipeline.daily_report import write_daily_report
from azlogs_pipeline.daily_report.check import external_references
from azlogs_pipeline.resources import AzlogsSettings

CHECK_SELF_CONTAINED = "opens_offline_with_charts"
REPORT_INPUTS = ("signin_summary", *detection_summaries(), "top_risky_users")
"""The summaries the page shows (its feed-health section reads the raw records too)."""


@dg.asset(
    name="security_report",
    group_name="reports",
    kinds={"html"},
    partitions_def=DAILY,
    deps=list(REPORT_INPUTS),
    check_specs=[dg.AssetCheckSpec(CHECK_SELF_CONTAINED, asset="security_report")],
    automation_condition=DAY_AFTER_ITS_HOURS,
    description=(
        "One self-contained HTML page per UTC day (<data dir>/reports/security-report-<day>.html):"
        " sign-ins and failures per hour, failures by error code and country, detections "
        "timeline, findings, top risky users, feed health. Also `azlogs report --day`."
    ),
)
def security_report(
    context: dg.AssetExecutionContext, azlogs: AzlogsSettings
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    result = write_daily_report(azlogs.lake_data_dir(), context.partition_key)
    path = result.path.resolve()
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "open": dg.MetadataValue.url(path.as_uri()),
            "bytes": result.bytes_written,
            "signins": result.signins,
            "findings": result.findings,
            **{f"chart_points_{name}": points for name, points in result.charts.items()},
        }
    )
    external = external_references(path.read_text(encoding="utf-8"))
    yield dg.AssetCheckResult(
        check_name=CHECK_SELF_CONTAINED,
        passed=not external and len(result.charts) > 0,
        description="Nothing outside the page is referenced, and every chart is inlined.",
        metadata={"external_references": len(external), "charts": len(result.charts)},
    )
