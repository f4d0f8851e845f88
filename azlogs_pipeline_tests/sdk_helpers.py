"""Small helpers that drive the real azure-eventhub SDK in tests."""

from __future__ import annotations

import threading
from typing import Any

from azure.eventhub import EventData, EventHubConsumerClient, EventHubProducerClient


def send_bodies(
    connection_string: str, hub: str, bodies: list[bytes], **batch_options: Any
) -> None:
    """Publish each body as one event with the real producer, batching as the SDK allows."""
    with EventHubProducerClient.from_connection_string(
        connection_string, eventhub_name=hub
    ) as producer:
        batch = producer.create_batch(**batch_options)
        for body in bodies:
            try:
                batch.add(EventData(body))
            except ValueError:
                producer.send_batch(batch)
                batch = producer.create_batch(**batch_options)
                batch.add(EventData(body))
        if len(batch):
            producer.send_batch(batch)


def receive_all(
    connection_string: str,
    hub: str,
    expected: int | None = None,
    idle_seconds: float = 3.0,
    timeout: float = 60.0,
    **receive_options: Any,
) -> list[Any]:
    """Receive from every partition until ``expected`` events arrived or the hub has been idle.

    Starts from the earliest event unless ``starting_position`` is given.
    """
    receive_options.setdefault("starting_position", "-1")
    received: list[Any] = []
    lock = threading.Lock()
    client = EventHubConsumerClient.from_connection_string(
        connection_string, consumer_group="$Default", eventhub_name=hub
    )
    done = threading.Event()

    def on_batch(_context: Any, events: list[Any]) -> None:
        with lock:
            received.extend(events)
            if not events or (expected is not None and len(received) >= expected):
                done.set()

    worker = threading.Thread(
        target=client.receive_batch,
        kwargs={"on_event_batch": on_batch, "max_wait_time": idle_seconds, **receive_options},
        daemon=True,
    )
    worker.start()
    done.wait(timeout)
    client.close()
    worker.join(timeout=30)
    return received
