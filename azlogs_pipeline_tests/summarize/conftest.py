"""A generated lake shared by the summary tests (built once per test session), and its summaries
(each built, for every hour, the first time a test asks for it)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from azlogs_pipeline.summarize import SummaryResult, build_summary
from azlogs_pipeline.summarize.specs import DETECTION_FAMILIES, summary_spec
from azlogs_pipeline_tests.summarize.generated_lake import (
    DETECTION_TABLES,
    GeneratedLake,
    land_generated,
)

MY_SUMMARIES = ("signin_summary", "feed_health", *DETECTION_FAMILIES)


class BuiltSummaries(Mapping[str, list[SummaryResult]]):
    """Summary name -> its partitions of every hour of the lake, oldest first; built on first
    access (the summaries it reads first), so a test pays only for what it reads."""

    def __init__(self, lake: GeneratedLake) -> None:
        self.lake = lake
        self.built: dict[str, list[SummaryResult]] = {}

    def __getitem__(self, name: str) -> list[SummaryResult]:
        if name not in MY_SUMMARIES:
            raise KeyError(name)
        if name not in self.built:
            for upstream in summary_spec(name).summaries:
                self[upstream]
            self.built[name] = [
                build_summary(self.lake.data_dir, name, hour) for hour in self.lake.hours
            ]
        return self.built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(MY_SUMMARIES)

    def __len__(self) -> int:
        return len(MY_SUMMARIES)


@pytest.fixture(scope="session")
def generated_lake(tmp_path_factory: pytest.TempPathFactory) -> GeneratedLake:
    """Generated logs landed in a raw lake with every hour's tables built."""
    return land_generated(tmp_path_factory.mktemp("generated-lake"), tables=DETECTION_TABLES)


@pytest.fixture(scope="session")
def built_summaries(generated_lake: GeneratedLake) -> BuiltSummaries:
    """The summaries of every hour of the generated lake (see `BuiltSummaries`)."""
    return BuiltSummaries(generated_lake)
