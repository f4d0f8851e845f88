"""The one Dagster Definitions object of azlogs: assets, checks, jobs, schedules, sensors, resources."""

import dagster as dg

from azlogs_pipeline.assets.alerts import alert_deliveries
from azlogs_pipeline.assets.archive import archive_raw
from azlogs_pipeline.assets.ingest import raw_events
from azlogs_pipeline.assets.normalize import normalized_tables
from azlogs_pipeline.assets.reports import security_report
from azlogs_pipeline.assets.summarize import SUMMARY_ASSETS
from azlogs_pipeline.automation import (
    alerts_and_reports_sensor,
    daily_summaries_sensor,
    hourly_drain_schedule,
    lake_hours_sensor,
)
from azlogs_pipeline.resources import AzlogsSettings

defs = dg.Definitions(
    assets=[
        raw_events,
        archive_raw,
        normalized_tables,
        *SUMMARY_ASSETS,
        alert_deliveries,
        security_report,
    ],
    schedules=[hourly_drain_schedule],
    sensors=[lake_hours_sensor, daily_summaries_sensor, alerts_and_reports_sensor],
    resources={"azlogs": AzlogsSettings()},
)
