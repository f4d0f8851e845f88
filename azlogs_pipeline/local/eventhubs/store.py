"""Hubs, partitions and their events: positions, lookups, retention and optional persistence.

Everything here runs on the emulator's event-loop thread, so there is no locking. Without a
data directory the stored events live in memory; with one they live in a per-partition log file
and only a small index (offset, time, position) stays in memory, so backlogs larger than RAM work.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from pathlib import Path

from . import message
from .eventlog import EventLog, LoggedEvent, Trim
from .hashing import partition_index

Listener = Callable[[], None]


def now_ms() -> int:
    return int(time.time() * 1000)


class Partition:
    """One partition's events; sequence numbers and offsets never repeat, even after retention."""

    def __init__(self, hub: str, partition_id: str, log: EventLog | None) -> None:
        self.hub = hub
        self.id = partition_id
        self.begin_seq = 0  # first retained sequence number
        self.next_seq = 0  # sequence number the next event gets
        self.next_offset = 0
        self.last_offset = -1
        self.last_ms = 0
        self._base = 0  # sequence number of index 0 in the arrays below
        self._offsets = array("q")
        self._times = array("q")
        self._heads = array("I")
        self._blobs: list[bytes] = []
        self._positions = array("q")
        self._lengths = array("I")
        self._log = log
        self.listeners: set[Listener] = set()

    # ------------------------------------------------------------ state

    @property
    def count(self) -> int:
        return self.next_seq - self.begin_seq

    @property
    def last_seq(self) -> int:
        return self.next_seq - 1

    def properties(self) -> dict:
        never = self.next_seq == 0
        return {
            "begin_sequence_number": -1 if never else self.begin_seq,
            "last_enqueued_sequence_number": self.last_seq,
            "last_enqueued_offset": str(self.last_offset),
            "last_enqueued_time_utc": self.last_ms,
            "is_partition_empty": self.count == 0,
        }

    # ------------------------------------------------------------ writing

    def append(self, pubs: list[message.Publication], retention: int | None) -> None:
        ms = max(now_ms(), self.last_ms)
        records = []
        for pub in pubs:
            seq, offset = self.next_seq, self.next_offset
            blob, head = message.stored_event(pub, seq, offset, ms)
            records.append((seq, offset, ms, head, blob))
            self._offsets.append(offset)
            self._times.append(ms)
            self._heads.append(head)
            self.next_seq += 1
            self.next_offset += len(blob)
            self.last_offset = offset
        self.last_ms = ms
        if self._log is None:
            self._blobs.extend(r[4] for r in records)
        else:
            self._positions.extend(self._log.append(records))
            self._lengths.extend(len(r[4]) for r in records)
        if retention is not None and self.count > retention:
            self._drop_before(self.next_seq - retention)
        for listener in list(self.listeners):
            listener()

    def keep_last(self, keep: int) -> int:
        """Drop all but the newest ``keep`` events now; return how many were dropped."""
        first = max(self.begin_seq, self.next_seq - max(keep, 0))
        dropped = first - self.begin_seq
        if dropped:
            self._drop_before(first)
        return dropped

    def _drop_before(self, first: int) -> None:
        for i in range(self.begin_seq - self._base, min(first - self._base, len(self._blobs))):
            self._blobs[i] = b""  # free the memory now; the index shrinks in bulk below
        self.begin_seq = first
        if self._log is not None:
            self._log.append_trim(self._trim())
        stale = first - self._base
        if stale > 4096 and stale * 2 > len(self._offsets):
            for arr in (self._offsets, self._times, self._heads, self._positions, self._lengths):
                del arr[: min(stale, len(arr))]
            del self._blobs[:stale]
            self._base = first

    # ------------------------------------------------------------ reading

    def read(self, seq: int, max_count: int, max_bytes: int) -> list[tuple[memoryview, int]]:
        """Up to ``max_count`` events from ``seq`` on (at least one if any): ``(bytes, header len)``."""
        seq = max(seq, self.begin_seq)
        end = min(self.next_seq, seq + max_count)
        if seq >= end:
            return []
        lo, hi = seq - self._base, end - self._base
        heads = self._heads
        if self._log is None:
            out = []
            size = 0
            for i in range(lo, hi):
                blob = self._blobs[i]
                out.append((memoryview(blob), heads[i]))
                size += len(blob)
                if size >= max_bytes:
                    break
            return out
        positions, lengths = self._positions, self._lengths
        start = positions[lo]
        stop = lo + 1
        while stop < hi and positions[stop] + lengths[stop] - start <= max_bytes:
            stop += 1
        chunk = memoryview(self._log.read(start, positions[stop - 1] + lengths[stop - 1] - start))
        return [
            (chunk[positions[i] - start : positions[i] - start + lengths[i]], heads[i])
            for i in range(lo, stop)
        ]

    def seek(self, field: str, value: int, inclusive: bool) -> int:
        """Sequence number of the first retained event whose ``field`` is > (or >=) ``value``."""
        lo = self.begin_seq - self._base
        if field == "sequence":
            found = value if inclusive else value + 1
            return min(max(found, self.begin_seq), self.next_seq)
        values = self._offsets if field == "offset" else self._times
        find = bisect_left if inclusive else bisect_right
        return self._base + find(values, value, lo, len(values))

    # ------------------------------------------------------------ persistence

    def _trim(self) -> Trim:
        return Trim(self.begin_seq, self.next_seq, self.next_offset, self.last_offset, self.last_ms)

    def restore(self, retention: int | None) -> None:
        """Rebuild the index from the log file; compact it if retention dropped much of it."""
        assert self._log is not None
        events: list[LoggedEvent] = []
        first = 0
        for item in self._log.load():
            if isinstance(item, LoggedEvent):
                events.append(item)
                self.next_seq = item.sequence_number + 1
                self.next_offset = item.offset + item.length
                self.last_offset = item.offset
                self.last_ms = item.enqueued_ms
            else:
                first = max(first, item.first_sequence)
                self.next_seq = max(self.next_seq, item.next_sequence)
                self.next_offset = max(self.next_offset, item.next_offset)
                self.last_offset = max(self.last_offset, item.last_offset)
                self.last_ms = max(self.last_ms, item.last_ms)
        if retention is not None:
            first = max(first, self.next_seq - retention)
        kept = [e for e in events if e.sequence_number >= first]
        self.begin_seq = self._base = kept[0].sequence_number if kept else self.next_seq
        positions = [e.position for e in kept]
        if len(kept) * 2 < len(events):
            positions = self._log.compact(kept)
            self._log.append_trim(self._trim())
        self._offsets = array("q", (e.offset for e in kept))
        self._times = array("q", (e.enqueued_ms for e in kept))
        self._heads = array("I", (e.header_length for e in kept))
        self._positions = array("q", positions)
        self._lengths = array("I", (e.length for e in kept))

    def close(self) -> None:
        if self._log is not None:
            self._log.close()


class Hub:
    def __init__(self, name: str, partitions: list[Partition]) -> None:
        self.name = name
        self.partitions = partitions
        self.created_ms = now_ms()
        self._next = 0

    @property
    def partition_ids(self) -> list[str]:
        return [p.id for p in self.partitions]

    def partition(self, partition_id: str) -> Partition | None:
        for p in self.partitions:
            if p.id == partition_id:
                return p
        return None

    def route(self, partition_key: str | None) -> Partition:
        """Partition for a publication without an explicit partition id."""
        if partition_key is not None:
            return self.partitions[partition_index(partition_key, len(self.partitions))]
        part = self.partitions[self._next]
        self._next = (self._next + 1) % len(self.partitions)
        return part


class EventStore:
    """All hubs of the emulated namespace; hub names are case-insensitive as in Event Hubs."""

    def __init__(
        self,
        hubs: list[str],
        partitions: int,
        data_dir: Path | None = None,
        retention_events: int | None = None,
    ) -> None:
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        self.retention = retention_events
        self._hubs: dict[str, Hub] = {}
        for name in hubs:
            parts = []
            for i in range(partitions):
                log = EventLog(data_dir / name / f"{i}.log") if data_dir is not None else None
                part = Partition(name, str(i), log)
                if log is not None:
                    part.restore(retention_events)
                parts.append(part)
            self._hubs[name.lower()] = Hub(name, parts)

    def hub_names(self) -> list[str]:
        return [hub.name for hub in self._hubs.values()]

    def hub(self, name: str) -> Hub | None:
        return self._hubs.get(name.lower())

    def publish(
        self, hub: Hub, partition_id: str | None, pubs: list[message.Publication]
    ) -> Partition:
        if partition_id is not None:
            part = hub.partition(partition_id)
            if part is None:
                raise KeyError(partition_id)
        else:
            part = hub.route(pubs[0].partition_key if pubs else None)
        if pubs:
            part.append(pubs, self.retention)
        return part

    def close(self) -> None:
        for hub in self._hubs.values():
            for part in hub.partitions:
                part.close()
