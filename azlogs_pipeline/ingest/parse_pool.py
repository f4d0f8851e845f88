"""Parse event bodies on every core, and hand the results back in sequence order.

Parsing (JSON, canonical form, record id, event time) is most of a drain's CPU, and Python runs it
on one core at a time; worker processes take it off the core that receives from Event Hubs and
writes Parquet. Results come back strictly in the order the events were received, and at most
``max_in_flight`` tasks are queued, so memory stays bounded whatever the backlog.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from azlogs_pipeline.ingest.parsing import ParsedEvent, parse_event, parse_events

_TASK_BYTES = 512 * 1024
"""Bodies per worker task: large enough that the hand-over cost is small per record."""


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    sequence_number: int
    offset: str | None
    enqueued_time: datetime
    body: bytes


Parsed = tuple[ReceivedEvent, ParsedEvent]


class InlineParser:
    """Parses in the calling thread: for small drains, where starting workers costs more."""

    def submit(self, events: list[ReceivedEvent]) -> Iterator[Parsed]:
        for event in events:
            yield event, parse_event(event.body, event.enqueued_time)

    def finish(self) -> Iterator[Parsed]:
        return iter(())

    def close(self) -> None:
        pass


class ProcessParser:
    """Parses in worker processes (spawned, so they share no threads or locks with the caller)."""

    def __init__(self, workers: int, max_in_flight: int | None = None) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )
        self._limit = max_in_flight or 2 * workers
        self._tasks: deque[tuple[list[ReceivedEvent], Future[list[ParsedEvent]]]] = deque()

    def submit(self, events: list[ReceivedEvent]) -> Iterator[Parsed]:
        """Queue the events; yield the results that are due, oldest first, waiting when full."""
        for chunk in _chunks(events):
            payload = [(event.body, event.enqueued_time) for event in chunk]
            self._tasks.append((chunk, self._pool.submit(parse_events, payload)))
            while len(self._tasks) > self._limit or (self._tasks and self._tasks[0][1].done()):
                yield from self._pop()

    def finish(self) -> Iterator[Parsed]:
        """Every remaining result, in order."""
        while self._tasks:
            yield from self._pop()

    def _pop(self) -> Iterator[Parsed]:
        chunk, future = self._tasks.popleft()
        yield from zip(chunk, future.result(), strict=True)

    def close(self) -> None:
        for _, future in self._tasks:
            future.cancel()
        self._tasks.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _chunks(events: list[ReceivedEvent]) -> Iterator[list[ReceivedEvent]]:
    chunk: list[ReceivedEvent] = []
    size = 0
    for event in events:
        chunk.append(event)
        size += len(event.body)
        if size >= _TASK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk
