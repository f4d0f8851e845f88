"""Send event bodies to an Event Hub with the SDK's producer, batched under the service's size limit.

Used by `azlogs publish` and `azlogs generate --publish`; works the same against a real namespace.

Body files are NDJSON: one body per line. A body is written as-is when it is valid UTF-8 without
CR or LF (every well-formed body is); any other body (raw newlines, binary garbage, as in the
generator's malformed samples) is written as ``b64:`` followed by its standard base64, and a body
that itself starts with ``b64:`` is encoded too, so every line decodes unambiguously.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from azure.eventhub import EventData, EventDataBatch, EventHubProducerClient

LINE_PREFIX = b"b64:"


def encode_line(body: bytes) -> bytes:
    """One body as one NDJSON line (without the newline)."""
    if b"\n" in body or b"\r" in body or body.startswith(LINE_PREFIX):
        return LINE_PREFIX + base64.b64encode(body)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return LINE_PREFIX + base64.b64encode(body)
    return body


def decode_line(line: bytes) -> bytes:
    """The body an NDJSON line holds."""
    if line.startswith(LINE_PREFIX):
        return base64.b64decode(line[len(LINE_PREFIX) :], validate=True)
    return line


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
            text = line.rstrip(b"\r\n")
            if text.strip():
                yield f"{path}:{number}", decode_line(text)


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

    def new_batch() -> EventDataBatch:
        return producer.create_batch(partition_key=partition_key, partition_id=partition_id)

    batch = new_batch()
    for origin, body in bodies:
        try:
            batch.add(EventData(body))
        except ValueError:
            if len(batch) == 0:
                result.too_large.append(origin)
                continue
            _send(producer, batch, result)
            batch = new_batch()
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
