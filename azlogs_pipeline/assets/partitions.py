"""The time partitions of the lake's assets: UTC event-time hours (tables, hourly summaries,
archive loads) and UTC days (daily summaries), from `AZLOGS_PARTITION_START`."""

import dagster as dg

from azlogs_pipeline.config import load_partition_start

HOURLY = dg.HourlyPartitionsDefinition(
    start_date=load_partition_start().strftime("%Y-%m-%d-%H:%M"),
    timezone="UTC",
    end_offset=1,
)
DAILY = dg.DailyPartitionsDefinition(
    start_date=load_partition_start().strftime("%Y-%m-%d"), timezone="UTC", end_offset=1
)
