"""Namespace-wide state shared by all connections: the store, receiver epochs, the CBS and
management nodes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from . import frames, message
from .codec import Array, Int, Timestamp
from .store import EventStore

if TYPE_CHECKING:
    from .connection import Connection
    from .links import PartitionLink

STOLEN = "amqp:link:stolen"


class ReceiverRegistry:
    """Active partition receivers per (hub, consumer group, partition), with owner-level epochs.

    As in Event Hubs: a receiver with an epoch >= every active one takes the partition and the
    others are detached with ``amqp:link:stolen``; a lower epoch, or no epoch while an epoch
    receiver is active, is refused with the same condition.
    """

    def __init__(self) -> None:
        self._active: dict[tuple[str, str, str], set[PartitionLink]] = {}

    def admit(self, link: PartitionLink) -> str | None:
        """Register ``link``; return an error description if it is refused."""
        active = self._active.setdefault(link.key, set())
        epochs = [r.epoch for r in active if r.epoch is not None]
        path = f"{link.partition.hub}/ConsumerGroups/{link.consumer_group}/Partitions/"
        path += link.partition.id
        if link.epoch is None:
            if epochs:
                return (
                    f"At least one receiver for the endpoint is created with epoch of "
                    f"'{max(epochs)}', and so non-epoch receiver is not allowed. Either reconnect "
                    f"with a higher epoch, or make sure all epoch receivers are closed or "
                    f"disconnected. PATH: {path}"
                )
        else:
            if epochs and max(epochs) > link.epoch:
                return (
                    f"Receiver '{link.name}' with a higher epoch '{max(epochs)}' already exists. "
                    f"Receiver with epoch {link.epoch} cannot be created. Make sure you are "
                    f"creating receiver with increasing epoch value to ensure connectivity, or "
                    f"ensure all old epoch receivers are closed or disconnected. PATH: {path}"
                )
            for other in list(active):
                description = (
                    f"New receiver '{link.name}' with higher epoch of '{link.epoch}' is created "
                    f"hence current receiver '{other.name}' with epoch '{other.epoch}' is getting "
                    f"disconnected. If you are recreating the receiver, make sure a higher epoch "
                    f"is used. PATH: {path}"
                )
                active.discard(other)
                other.detach(frames.error(STOLEN, description))
        active.add(link)
        return None

    def remove(self, link: PartitionLink) -> None:
        active = self._active.get(link.key)
        if active is not None:
            active.discard(link)


class Broker:
    def __init__(
        self,
        store: EventStore,
        loop: asyncio.AbstractEventLoop,
        max_message_bytes: int,
        max_frame_size: int,
    ) -> None:
        self.store = store
        self.loop = loop
        self.max_message_bytes = max_message_bytes
        self.max_frame_size = max_frame_size
        self.receivers = ReceiverRegistry()
        self.connections: set[Connection] = set()

    def handle_request(self, node: str, request: message.Request) -> bytes:
        """Answer a CBS put-token (any token is accepted) or a management READ."""
        props = request.application_properties
        if node == "$cbs":
            return message.build_reply(request.message_id, 202, "Accepted", None)
        operation = str(props.get("operation", ""))
        kind = str(props.get("type", ""))
        name = str(props.get("name", ""))
        if operation != "READ":
            return message.build_reply(
                request.message_id, 400, f"Unsupported operation '{operation}'", None
            )
        hub = self.store.hub(name)
        if hub is None:
            return message.build_reply(
                request.message_id,
                404,
                f"The messaging entity '{name}' could not be found.",
                None,
                {"error-condition": "amqp:not-found"},
            )
        value: dict[str, Any]
        if kind == "com.microsoft:eventhub":
            value = {
                "name": hub.name,
                "type": kind,
                "created_at": Timestamp(hub.created_ms),
                "partition_count": Int(len(hub.partitions)),
                "partition_ids": Array(hub.partition_ids, str),
            }
        elif kind == "com.microsoft:partition":
            partition_id = str(props.get("partition", ""))
            part = hub.partition(partition_id)
            if part is None:
                return message.build_reply(
                    request.message_id,
                    404,
                    f"The partition '{partition_id}' of '{hub.name}' could not be found.",
                    None,
                    {"error-condition": "amqp:not-found"},
                )
            info = part.properties()
            value = {
                "name": hub.name,
                "type": kind,
                "partition": part.id,
                "begin_sequence_number": info["begin_sequence_number"],
                "last_enqueued_sequence_number": info["last_enqueued_sequence_number"],
                "last_enqueued_offset": info["last_enqueued_offset"],
                "last_enqueued_time_utc": Timestamp(info["last_enqueued_time_utc"]),
                "is_partition_empty": info["is_partition_empty"],
            }
        else:
            return message.build_reply(request.message_id, 400, f"Unknown type '{kind}'", None)
        return message.build_reply(request.message_id, 200, "OK", value)
