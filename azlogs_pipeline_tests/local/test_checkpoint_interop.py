"""Microsoft's BlobCheckpointStore on Azurite with a consumer of the emulator: stop, resume, no gaps."""

from __future__ import annotations

from azure.storage.blob import ContainerClient

from azlogs_pipeline.local.eventhubs import EventHubsEmulator
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import consume_with_blob_checkpoints, send_bodies

HUB = "adlogs"


def consume_with_checkpoints(
    emulator: EventHubsEmulator, azurite: AzuriteEndpoint, container: str, stop_after: int
) -> list[bytes]:
    return consume_with_blob_checkpoints(
        emulator.connection_string(), HUB, azurite.connection_string, container, stop_after
    )


def test_resume_from_blob_checkpoints_loses_and_repeats_nothing(
    azurite_endpoint: AzuriteEndpoint,
) -> None:
    bodies = [f'{{"records": [{{"n": {i}}}]}}'.encode() for i in range(120)]
    with EventHubsEmulator(hubs=[HUB], partitions=2) as emulator:
        send_bodies(emulator.connection_string(HUB), bodies[:60], partition_id="0")
        send_bodies(emulator.connection_string(HUB), bodies[60:], partition_id="1")
        container = azurite_endpoint.new_container()

        first = consume_with_checkpoints(emulator, azurite_endpoint, container, stop_after=50)
        second = consume_with_checkpoints(emulator, azurite_endpoint, container, stop_after=10**6)

    assert len(first) == 50
    assert sorted(first + second) == sorted(bodies)
    assert not set(first) & set(second)

    blobs = ContainerClient.from_connection_string(azurite_endpoint.connection_string, container)
    names = sorted(b.name for b in blobs.list_blobs(include=["metadata"]))
    host = f"127.0.0.1:{emulator.port}"
    assert f"{host}/{HUB}/$default/checkpoint/0" in names
    assert f"{host}/{HUB}/$default/checkpoint/1" in names
    meta = blobs.get_blob_client(f"{host}/{HUB}/$default/checkpoint/1").get_blob_properties()
    assert meta.metadata["sequencenumber"] == "59"
