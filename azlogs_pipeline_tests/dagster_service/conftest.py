"""One webserver + daemon for the whole session (they take a while to start), over a seeded lake."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from azlogs_pipeline.local.eventhubs import EventHubsEmulator
from azlogs_pipeline_tests.dagster_service.service import DagsterService, running_dagster
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.settings import local_environment
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw

HUB = "adlogs"
SEEDED_DAY = datetime(2026, 11, 19, tzinfo=UTC)
"""The day of the seeded raw lake: apart from the hours other tests publish to (2026-11-20)."""
SEEDED_HOURS = tuple(range(24))
"""Hours of `SEEDED_DAY` with audit records in the seeded raw lake (`seeded_records(hour)` each)."""


def seeded_records(hour: int) -> int:
    return 1 + hour % 3


def audit_record(n: int, hour: int) -> dict[str, object]:
    when = f"{SEEDED_DAY:%Y-%m-%d}T{hour:02d}:{10 + n % 40:02d}:00Z"
    return {
        "category": "AuditLogs",
        "time": when,
        "properties": {"id": f"a-{n}", "activityDateTime": when, "activityDisplayName": "Add user"},
    }


@dataclass(frozen=True)
class SeededService:
    dagster: DagsterService
    data_dir: Path
    emulator: EventHubsEmulator
    environment: dict[str, str]


@pytest.fixture(scope="session")
def seeded_service(
    tmp_path_factory: pytest.TempPathFactory, azurite_endpoint: AzuriteEndpoint
) -> Iterator[SeededService]:
    """Webserver and daemon over a raw lake holding the SEEDED_HOURS (the Event Hub is empty,
    so the running schedule and sensor find nothing to add)."""
    root = tmp_path_factory.mktemp("dagster_service")
    data_dir = root / "data"
    n = 0
    for hour in SEEDED_HOURS:
        records = [audit_record(n + i, hour) for i in range(seeded_records(hour))]
        n += len(records)
        write_raw(data_dir, records, SEEDED_DAY.replace(hour=hour, minute=30), eventhub=HUB)
    emulator = EventHubsEmulator(hubs=[HUB], partitions=1).start()
    try:
        environment = local_environment(emulator, azurite_endpoint, data_dir)
        with running_dagster(root, environment) as service:
            yield SeededService(service, data_dir, emulator, environment)
    finally:
        emulator.stop()
