"""The one Dagster Definitions object of azlogs: assets, checks, jobs, schedules, sensors, resources."""

import dagster as dg

defs = dg.Definitions()
