"""Send event bodies to an Event Hub with the SDK's producer, batched under the service's size limit.

Used by `azlogs publish` and `azlogs generate --publish`; works the same against a real namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from azure.eventhub import EventData, EventDataBatch, EventHubProducerClient


@dataclass
class PublishResult:
    """What one publication sent, and what it could not."""

    events: int = 0
    batches: int = 0
    bytes: int = 0
    too_large: list[str] = field(default_factory=list)


def read_bodies(path: Path) -> Iterator[tuple[str, bytes]]:
    """Bodies of a file with where each came from: NDJSON one per line, a ``.json`` file one body."""
    if path.suffix.lower() == ".json":
        yield str(path), path.read_bytes()
        return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            body = line.rstrip(b"\r\n")
            if body.strip():
                yield f"{path}:{number}", body


def publish_bodies(
    producer: EventHubProducerClient,
    bodies: Iterable[tuple[str, bytes]],
    partition_key: str | None = None,
    partition_id: str | None = None,
) -> PublishResult:
    """Send each body as one event, packing as many events per batch as the hub accepts.

    A body larger than the hub's limit cannot be sent at all: it is listed in ``too_large``
    (by its origin) and the rest are still sent.
    """
    result = PublishResult()
    options = {"partition_key": partition_key, "partition_id": partition_id}
    batch = producer.create_batch(**options)
    for origin, body in bodies:
        try:
            batch.add(EventData(body))
        except ValueError:
            if len(batch) == 0:
                result.too_large.append(origin)
                continue
            _send(producer, batch, result)
            batch = producer.create_batch(**options)
            try:
                batch.add(EventData(body))
            except ValueError:
                result.too_large.append(origin)
                continue
        result.bytes += len(body)
    if len(batch):
        _send(producer, batch, result)
    return result


def _send(producer: EventHubProducerClient, batch: EventDataBatch, result: PublishResult) -> None:
    producer.send_batch(batch)
    result.events += len(batch)
    result.batches += 1
