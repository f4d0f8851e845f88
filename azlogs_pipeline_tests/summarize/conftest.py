"""A generated lake shared by the summary tests (built once per test session: a few seconds)."""

from __future__ import annotations

import pytest

from azlogs_pipeline.summarize import SummaryResult, build_summary
from azlogs_pipeline.summarize.specs import DETECTION_FAMILIES
from azlogs_pipeline_tests.summarize.generated_lake import GeneratedLake, land_generated

MY_SUMMARIES = ("signin_summary", "feed_health", *DETECTION_FAMILIES)


@pytest.fixture(scope="session")
def generated_lake(tmp_path_factory: pytest.TempPathFactory) -> GeneratedLake:
    """Generated logs landed in a raw lake with every hour's signin_logs built."""
    return land_generated(tmp_path_factory.mktemp("generated-lake"))


@pytest.fixture(scope="session")
def built_summaries(generated_lake: GeneratedLake) -> dict[str, list[SummaryResult]]:
    """signin_summary and signin_detections of every hour of the generated lake, oldest first."""
    return {
        name: [build_summary(generated_lake.data_dir, name, hour) for hour in generated_lake.hours]
        for name in MY_SUMMARIES
    }
