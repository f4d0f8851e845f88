"""Shared fixtures: the local stack (Event Hubs emulator, Azurite) for integration tests.

Every test that starts a service (the emulator, Azurite, PostgreSQL, Chromium, a webhook receiver,
a Dagster instance that executes runs, a webserver and daemon) or runs `azlogs` as its own process
is marked ``integration``: by the fixtures it uses (`SERVICE_FIXTURES`), or by ``pytestmark`` or a
mark in its module. A test over a generated lake (built and summarized end to end) is ``slow``
(`GENERATED_LAKE_FIXTURES`). ``make test-fast`` runs the rest; ``make test`` runs everything.
"""

import contextlib
from collections.abc import Iterator

import pytest
from dagster._core.storage.defs_state.base import _current_storage

pytest_plugins = [
    "azlogs_pipeline_tests.fixtures.emulator",
    "azlogs_pipeline_tests.fixtures.azurite",
    "azlogs_pipeline_tests.fixtures.lake",
    "azlogs_pipeline_tests.fixtures.stack",
    "azlogs_pipeline_tests.fixtures.generated",
]

SERVICE_FIXTURES = frozenset(
    {"eventhubs_emulator", "eventhubs_emulator_factory", "azurite_endpoint", "postgres"}
)
"""A test that uses one of these (directly or through another fixture) starts a service."""
GENERATED_LAKE_FIXTURES = frozenset({"generated_lake"})
"""A test that uses one of these reads a generated lake: a minute or more to build per worker."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if SERVICE_FIXTURES & fixtures:
            item.add_marker(pytest.mark.integration)
        if GENERATED_LAKE_FIXTURES & fixtures:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def no_dagster_state_storage_of_an_earlier_test() -> Iterator[None]:
    """Each test starts without Dagster's current DefsStateStorage.

    `DagsterInstance.__enter__` puts its storage in a context variable that a disposed instance
    does not always take back, so a later `materialize` in the same worker could reach an earlier
    test's dead instance ("Attempted to resolve undefined DagsterInstance weakref", seen in full
    runs only, in whichever test came next)."""
    token = _current_storage.set(None)
    yield
    with contextlib.suppress(ValueError):
        _current_storage.reset(token)
