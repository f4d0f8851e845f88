"""Azure SDK clients built from :class:`~azlogs_pipeline.config.Settings`, and nowhere else.

With a connection string or account key the SDK signs requests with it; without one, azure-identity's
DefaultAzureCredential is used (managed identity, workload identity, Azure CLI login, ...).
"""

from __future__ import annotations

from typing import Any

from azure.core.credentials import AzureNamedKeyCredential
from azure.eventhub import EventHubConsumerClient, EventHubProducerClient, TransportType
from azure.eventhub.extensions.checkpointstoreblob import BlobCheckpointStore
from azure.storage.blob import BlobServiceClient, ContainerClient, ExponentialRetry

from azlogs_pipeline.config import (
    ArchiveSettings,
    EventHubSettings,
    LakeSettings,
    Secret,
    StorageSettings,
)


def _credential() -> Any:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _account_credential(account_name: str | None, account_key: Secret | None) -> Any:
    """The storage account key when one is configured, else Entra ID."""
    if account_key is not None:
        return AzureNamedKeyCredential(account_name or "", account_key.get())
    return _credential()


def _retry(settings: EventHubSettings) -> dict[str, Any]:
    """The SDK's retry policy: a few quick retries, each back-off well inside the drain's bound."""
    return {
        "retry_total": settings.retry_total,
        "retry_backoff_max": min(30.0, settings.retry_timeout / 2),
    }


def _storage_options() -> dict[str, Any]:
    """Blob clients retry 3 times within about 10 s (the SDK's default waits 15 s, then 18 s,
    then 24 s: a mistyped account URL took minutes to be reported)."""
    return {
        "retry_policy": ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=3),
        "connection_timeout": 10,
    }


def _transport(settings: EventHubSettings) -> TransportType:
    return (
        TransportType.AmqpOverWebsocket if settings.transport == "websocket" else TransportType.Amqp
    )


def make_producer(settings: EventHubSettings, hub: str) -> EventHubProducerClient:
    """A producer for one Event Hub."""
    if settings.connection_string is not None:
        return EventHubProducerClient.from_connection_string(
            settings.connection_string.get(),
            eventhub_name=hub,
            transport_type=_transport(settings),
            **_retry(settings),
        )
    assert settings.fully_qualified_namespace is not None
    return EventHubProducerClient(
        settings.fully_qualified_namespace,
        hub,
        _credential(),
        transport_type=_transport(settings),
        **_retry(settings),
    )


def make_consumer(
    settings: EventHubSettings, hub: str, checkpoint_store: Any = None, **kwargs: Any
) -> EventHubConsumerClient:
    """A consumer of one Event Hub in the configured consumer group."""
    common: dict[str, Any] = {
        "consumer_group": settings.consumer_group,
        "eventhub_name": hub,
        "transport_type": _transport(settings),
        "checkpoint_store": checkpoint_store,
        **_retry(settings),
        **kwargs,
    }
    if settings.connection_string is not None:
        return EventHubConsumerClient.from_connection_string(
            settings.connection_string.get(), **common
        )
    assert settings.fully_qualified_namespace is not None
    return EventHubConsumerClient(
        settings.fully_qualified_namespace, credential=_credential(), **common
    )


def make_container_client(settings: StorageSettings | LakeSettings) -> ContainerClient:
    """The checkpoint container's client, or the lake container's (same credential rule)."""
    if settings.connection_string is not None:
        return ContainerClient.from_connection_string(
            settings.connection_string.get(), settings.container, **_storage_options()
        )
    assert settings.account_url is not None
    credential = _account_credential(settings.account_name, settings.account_key)
    return ContainerClient(
        settings.account_url, settings.container, credential=credential, **_storage_options()
    )


def make_archive_service_client(settings: ArchiveSettings) -> BlobServiceClient:
    """A blob service client of the archive account (key, SAS or Entra ID)."""
    if settings.connection_string is not None:
        return BlobServiceClient.from_connection_string(
            settings.connection_string.get(), **_storage_options()
        )
    assert settings.account_url is not None
    credential = _account_credential(settings.account_name, settings.account_key)
    return BlobServiceClient(settings.account_url, credential=credential, **_storage_options())


def make_checkpoint_store(settings: StorageSettings) -> BlobCheckpointStore:
    """Microsoft's blob checkpoint store on the configured container (standard blob layout)."""
    client = make_container_client(settings)
    return BlobCheckpointStore(client.url, settings.container, container_client=client)


def ensure_container(settings: StorageSettings) -> None:
    """Create the checkpoint container when it does not exist yet (a no-op when it does)."""
    from azure.core.exceptions import ResourceExistsError

    client = make_container_client(settings)
    try:
        if not client.exists():
            client.create_container()
    except ResourceExistsError:
        pass
    finally:
        client.close()


def checkpoint_namespace(client: EventHubConsumerClient) -> str:
    """The namespace part of checkpoint and ownership blob names, exactly as the SDK computes it.

    The SDK's own EventProcessor uses the client's host name (with the port when one is given,
    as with the local emulator); using the same value keeps our blobs interchangeable with theirs.
    """
    return str(client._address.hostname)
