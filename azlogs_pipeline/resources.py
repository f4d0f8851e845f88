"""Dagster resources of azlogs: one, which hands the validated settings to the assets."""

from dataclasses import replace
from pathlib import Path

import dagster as dg

from azlogs_pipeline.config import Settings, load_data_dir, load_settings


class AzlogsSettings(dg.ConfigurableResource):
    """The pipeline's settings, read from the environment (and .env) by config.py at run time.

    Secrets stay in environment variables: they never become run config, so they never reach the
    run's event log. ``data_dir`` may be overridden (tests, one-off runs).
    """

    data_dir: str | None = None

    def load(self) -> Settings:
        settings = load_settings()
        if self.data_dir:
            settings = replace(settings, data_dir=Path(self.data_dir))
        return settings

    def lake_data_dir(self) -> Path:
        """The data directory alone, for assets that need no Event Hubs or checkpoint settings."""
        return Path(self.data_dir) if self.data_dir else load_data_dir()
