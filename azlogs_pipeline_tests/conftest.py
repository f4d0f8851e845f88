"""Shared fixtures: the local stack (Event Hubs emulator, Azurite) for integration tests."""

pytest_plugins = [
    "azlogs_pipeline_tests.fixtures.emulator",
    "azlogs_pipeline_tests.fixtures.azurite",
]
