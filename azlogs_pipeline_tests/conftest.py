"""Shared fixtures: the local stack (Event Hubs emulator, Azurite) for integration tests.

Every test that starts a service (the emulator, Azurite, PostgreSQL, Chromium, a Dagster webserver
and daemon, or the whole stack through the CLI) is marked ``integration``: by the fixtures it uses,
or by ``pytestmark`` in its module. ``make test-fast`` runs the rest.
"""

import pytest

pytest_plugins = [
    "azlogs_pipeline_tests.fixtures.emulator",
    "azlogs_pipeline_tests.fixtures.azurite",
    "azlogs_pipeline_tests.fixtures.lake",
    "azlogs_pipeline_tests.fixtures.generated",
]

SERVICE_FIXTURES = frozenset(
    {"eventhubs_emulator", "eventhubs_emulator_factory", "azurite_endpoint", "postgres"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
