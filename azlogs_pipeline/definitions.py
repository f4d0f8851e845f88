"""The one Dagster Definitions object of azlogs: assets, checks, jobs, schedules, sensors, resources."""

import dagster as dg

from azlogs_pipeline.assets.ingest import raw_events
from azlogs_pipeline.resources import AzlogsSettings

defs = dg.Definitions(
    assets=[raw_events],
    resources={"azlogs": AzlogsSettings()},
)
