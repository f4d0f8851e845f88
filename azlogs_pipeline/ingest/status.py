"""Where each Event Hub partition stands: its checkpoint, what is enqueued, and the lag between."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from azlogs_pipeline.config import Settings
from azlogs_pipeline.ingest.clients import (
    checkpoint_namespace,
    make_checkpoint_store,
    make_consumer,
)
from azlogs_pipeline.ingest.errors import AZURE_ERRORS, explain_access


@dataclass(frozen=True)
class PartitionStatus:
    eventhub: str
    partition_id: str
    checkpoint_sequence_number: int | None
    checkpoint_offset: str | None
    begin_sequence_number: int
    last_enqueued_sequence_number: int
    last_enqueued_time: datetime | None
    is_empty: bool

    @property
    def lag(self) -> int:
        return lag(
            self.checkpoint_sequence_number,
            self.begin_sequence_number,
            self.last_enqueued_sequence_number,
            self.is_empty,
        )


def lag(checkpoint: int | None, begin: int, last_enqueued: int, is_empty: bool) -> int:
    """Events still to drain: enqueued after the checkpoint and still retained (all retained
    events when there is no checkpoint)."""
    if is_empty:
        return 0
    done = begin - 1 if checkpoint is None else max(checkpoint, begin - 1)
    return max(0, last_enqueued - done)


def list_partitions(settings: Settings) -> list[tuple[str, str]]:
    """Every (hub, partition id) of the configured Event Hubs, asked of the service; an Azure
    failure is an AzureAccessError naming the setting to check."""
    found: list[tuple[str, str]] = []
    for hub in settings.eventhub.names:
        try:
            with make_consumer(settings.eventhub, hub) as consumer:
                found.extend((hub, pid) for pid in consumer.get_partition_ids())
        except AZURE_ERRORS as error:
            raise explain_access(error, settings, hub) from None
    return found


def partition_statuses(settings: Settings) -> list[PartitionStatus]:
    """The status of every partition of every configured hub (no checkpoints at all before the
    first drain creates the container); an Azure failure is an AzureAccessError."""
    statuses: list[PartitionStatus] = []
    store = make_checkpoint_store(settings.storage)
    try:
        for hub in settings.eventhub.names:
            try:
                statuses += _hub_statuses(settings, store, hub)
            except AZURE_ERRORS as error:
                raise explain_access(error, settings, hub) from None
    finally:
        store.close()
    return statuses


def _checkpoints(store: Any, namespace: str, hub: str, group: str) -> dict[str, Any]:
    try:
        return {c["partition_id"]: c for c in store.list_checkpoints(namespace, hub, group)}
    except ResourceNotFoundError:  # the container: the first drain creates it
        return {}


def _hub_statuses(settings: Settings, store: Any, hub: str) -> list[PartitionStatus]:
    statuses = []
    with make_consumer(settings.eventhub, hub) as consumer:
        namespace = checkpoint_namespace(consumer)
        checkpoints = _checkpoints(store, namespace, hub, settings.eventhub.consumer_group)
        for pid in consumer.get_partition_ids():
            props = consumer.get_partition_properties(pid)
            checkpoint = checkpoints.get(pid)
            statuses.append(
                PartitionStatus(
                    eventhub=hub,
                    partition_id=pid,
                    checkpoint_sequence_number=checkpoint["sequence_number"]
                    if checkpoint
                    else None,
                    checkpoint_offset=checkpoint["offset"] if checkpoint else None,
                    begin_sequence_number=props["beginning_sequence_number"],
                    last_enqueued_sequence_number=props["last_enqueued_sequence_number"],
                    last_enqueued_time=props.get("last_enqueued_time_utc"),
                    is_empty=props["is_empty"],
                )
            )
    return statuses
