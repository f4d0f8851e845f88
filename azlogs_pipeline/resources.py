"""Dagster resources of azlogs: one, which hands the validated settings to the assets."""

from dataclasses import replace
from pathlib import Path

import dagster as dg

from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline.config import Settings, load_data_dir, load_settings


class AzlogsSettings(dg.ConfigurableResource):
    """The pipeline's settings, read from the environment (and .env) by config.py at run time.

    Secrets stay in environment variables: they never become run config, so they never reach the
    run's event log. ``data_dir`` may be overridden (tests, one-off runs).

    Every run that uses it starts with the analysts' catalog current (`refresh_catalog`): the one
    place the pipeline keeps it, whatever the run materializes. A sensor or schedule that asks it
    for the data dir only reads.
    """

    data_dir: str | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.run is not None:  # a run, not a sensor's or schedule's evaluation
            refresh_catalog(self.lake_data_dir())

    def load(self) -> Settings:
        settings = load_settings()
        if self.data_dir:
            settings = replace(settings, data_dir=Path(self.data_dir))
        return settings

    def lake_data_dir(self) -> Path:
        """The data directory alone, for assets that need no Event Hubs or checkpoint settings."""
        return Path(self.data_dir) if self.data_dir else load_data_dir()
