"""Buffer one (hub, partition) drain in memory, bounded, and flush it to the raw lake.

Usage by a drain loop: `add_event` for each received event in sequence order; when `is_full` (or
the drain ends) call `flush()`, and only after it returns move the checkpoint to the summary's
`last_sequence_number` / `last_offset`.

Crash safety. Every file a flush writes is named `<hub>-<partition>-<first seq>-<last seq>` after
the whole batch, so re-draining the same events rewrites the same files with the same rows. A crash
after the files are written but before the checkpoint moves means the next drain re-reads from the
old checkpoint, perhaps with different batch boundaries: it writes files under other names and the
old ones stay. Records may then be in the raw lake twice (collapsed later by `record_id`), but a
file is only ever replaced by one holding exactly the same events, so nothing is lost. If `flush`
raises, the buffer is kept and the checkpoint must not move.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow as pa

from azlogs_pipeline.ingest.parsing import ParsedEvent, parse_event
from azlogs_pipeline.ingest.records import RecordFields, record_id_of
from azlogs_pipeline.lake.parquet import fsync_dir, write_parquet_atomic
from azlogs_pipeline.lake.paths import deadletter_file_path, hour_key, hour_start, raw_file_path
from azlogs_pipeline.lake.raw_schema import (
    DEADLETTER_SCHEMA,
    RAW_COMPRESSION,
    RAW_DICTIONARY_COLUMNS,
    RAW_RECORDS_SCHEMA,
    RAW_STATISTICS_COLUMNS,
)
from azlogs_pipeline.lake.storage import LakePath

DEFAULT_MAX_RECORDS = 50_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_MAX_BUFFER_BYTES = 1 << 30
"""The record column uses 32-bit offsets; one flush stays far below 2 GiB of JSON text."""
_RECORD_OVERHEAD_BYTES = 200
"""Rough per-record cost of the buffered Python objects besides the JSON text."""
_TEXT_INITIAL_BYTES = 4 << 20
_TEXT_SLACK_BYTES = 2 << 20
"""Room past the bound for the event that crosses it (an Event Hubs event is at most 1 MB)."""
_WRITE_THREADS = 4
"""Files of one flush written at once: encoding and fsync release the GIL, so they overlap."""
_TIMESTAMP = pa.timestamp("us", tz="UTC")
_ROW_CATEGORY = RecordFields._fields.index("category")
_ROW_EVENT_TIME = RecordFields._fields.index("event_time")
_ROW_TIME_SOURCE = RecordFields._fields.index("event_time_source")


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What became of one event: records buffered, how many repaired, dead-letter reason if any."""

    records: int
    repaired: int
    dead_letter_reason: str | None


@dataclass(frozen=True)
class FlushSummary:
    """What one flush made durable; `last_*` is where the checkpoint may move afterwards."""

    eventhub: str
    partition_id: str
    events: int = 0
    records: int = 0
    dead_letters: int = 0
    repaired: int = 0
    invalid_category: int = 0
    records_per_category: dict[str, int] = field(default_factory=dict)
    records_per_time_source: dict[str, int] = field(default_factory=dict)
    hours_touched: tuple[str, ...] = ()
    records_per_hour: dict[str, int] = field(default_factory=dict)
    files: tuple[LakePath, ...] = ()
    first_sequence_number: int | None = None
    last_sequence_number: int | None = None
    last_offset: str | None = None
    last_enqueued_time: datetime | None = None
    body_bytes: int = 0
    bytes_written: int = 0


@dataclass(kw_only=True)
class LandedTotals:
    """Running totals of the flushes of one drain or one archive load (for run metadata)."""

    records: int = 0
    dead_letters: int = 0
    repaired: int = 0
    invalid_category: int = 0
    bytes_written: int = 0
    records_per_category: dict[str, int] = field(default_factory=dict)
    hours_touched: set[str] = field(default_factory=set)
    records_per_hour: dict[str, int] = field(default_factory=dict)

    def add_landed(self, flushed: FlushSummary) -> None:
        self.records += flushed.records
        self.dead_letters += flushed.dead_letters
        self.repaired += flushed.repaired
        self.invalid_category += flushed.invalid_category
        self.bytes_written += flushed.bytes_written
        self.hours_touched.update(flushed.hours_touched)
        for category, count in flushed.records_per_category.items():
            self.records_per_category[category] = self.records_per_category.get(category, 0) + count
        for hour, count in flushed.records_per_hour.items():
            self.records_per_hour[hour] = self.records_per_hour.get(hour, 0) + count


class _TextBuffer:
    """Canonical JSON texts back to back in one preallocated buffer, reused across flushes.

    Fresh memory is expensive (page faults cost more than copying the text in), so the buffer
    grows by doubling up to the batch bound during the first batch and is then reused. The Arrow
    `record` column is a zero-copy view of it, valid until `clear()`.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._data = bytearray(min(limit, _TEXT_INITIAL_BYTES))
        self._view = memoryview(self._data)
        self.size = 0
        self.offsets = array("i", [0])
        self.in_use = False

    def append(self, text: bytes) -> None:
        end = self.size + len(text)
        if end > len(self._data):
            self._grow(end)
        self._view[self.size : end] = text
        self.size = end
        self.offsets.append(end)

    def _grow(self, needed: int) -> None:
        # A new buffer instead of resizing: Arrow views of the old one may still be alive.
        grown = bytearray(max(needed, min(2 * len(self._data), self._limit)))
        grown[: self.size] = self._view[: self.size]
        self._data, self._view = grown, memoryview(grown)

    def as_array(self) -> pa.Array:
        """The texts as an Arrow string column (orjson output is valid UTF-8), zero-copy."""
        buffers = [None, pa.py_buffer(self.offsets), pa.py_buffer(self._view[: self.size])]
        return pa.Array.from_buffers(pa.string(), len(self.offsets) - 1, buffers)

    def record_ids(self) -> list[str]:
        """The record id of each text (SHA-256 releases the GIL on texts over 2 KB, so hashing on
        the flush thread overlaps the parsing of the next batch)."""
        view = self._view
        return [record_id_of(view[start:end]) for start, end in pairwise(self.offsets)]

    def clear(self) -> None:
        self.size = 0
        self.offsets = array("i", [0])


class _Pending:
    """Records and dead letters buffered since the last flush.

    Per record only the extracted fields (a tuple), its index in the envelope and its repaired
    flag are kept; the parsed dict is dropped and the canonical JSON text is appended to one
    buffer (`_TextBuffer`), which becomes the Parquet `record` column without another copy.
    Memory is about the size of the records' JSON text.
    """

    def __init__(self, texts: _TextBuffer) -> None:
        self.rows: list[tuple[Any, ...]] = []
        """`RecordFields` without the trailing `canonical_json` (that lives in `texts`) and with an
        empty `record_id` (hashed from `texts` when the batch is written)."""
        self.texts = texts
        self.record_index: list[int] = []
        self.repaired: list[bool] = []
        self.event_of_record: list[int] = []
        self.events: list[tuple[int, str | None, datetime]] = []
        self.dead_letters: list[tuple[int, str | None, datetime, str, bytes]] = []
        self.invalid_category = 0
        self.body_bytes = 0
        self.buffered_bytes = 0

    def add(self, fields: RecordFields, index: int, repaired: bool, event: int) -> None:
        self.rows.append(fields[:-1])
        self.texts.append(fields.canonical_json)
        self.record_index.append(index)
        self.repaired.append(repaired)
        self.event_of_record.append(event)
        self.buffered_bytes += len(fields.canonical_json) + _RECORD_OVERHEAD_BYTES
        self.invalid_category += not fields.category_valid

    def category_hours(self) -> list[tuple[str, datetime, list[int] | None]]:
        """(category, event hour, row numbers) per group, sorted; None means every row."""
        groups: dict[tuple[str, int, int, int, int], list[int]] = {}
        for number, row in enumerate(self.rows):
            moment = row[_ROW_EVENT_TIME]
            key = (row[_ROW_CATEGORY], moment.year, moment.month, moment.day, moment.hour)
            members = groups.get(key)
            if members is None:
                groups[key] = [number]
            else:
                members.append(number)
        only = len(groups) == 1
        return [
            (key[0], datetime(*key[1:], tzinfo=UTC), None if only else members)
            for key, members in sorted(groups.items())
        ]

    def records_table(
        self, texts: pa.Array, eventhub: str, partition_id: str, ingested_at: datetime
    ) -> pa.Table:
        """The raw-lake table of every buffered row; `texts` is the `record` column."""
        rows, indexes, repaired, events = (
            self.rows,
            self.record_index,
            self.repaired,
            self.event_of_record,
        )
        count = len(rows)
        _, categories, _, times, sources, tenants, resources, operations, source_ids = zip(
            *rows, strict=True
        )
        ids = self.texts.record_ids()
        event_rows = pa.array(events, pa.int32())
        seqs, offsets, enqueued = zip(*self.events, strict=True)
        columns = [
            pa.array(ids, pa.string()),
            pa.array(categories, pa.string()),
            pa.array(times, _TIMESTAMP),
            pa.array(sources, pa.string()),
            pa.array(tenants, pa.string()),
            pa.array(resources, pa.string()),
            pa.array(operations, pa.string()),
            texts,
            pa.array(repaired, pa.bool_()),
            pa.repeat(pa.scalar(eventhub, pa.string()), count),
            pa.repeat(pa.scalar(partition_id, pa.string()), count),
            pa.array(seqs, pa.int64()).take(event_rows),
            pa.array(offsets, pa.string()).take(event_rows),
            pa.array(enqueued, _TIMESTAMP).take(event_rows),
            pa.array(indexes, pa.int32()),
            pa.repeat(pa.scalar(ingested_at, _TIMESTAMP), count),
            pa.array(
                [own if own is not None else rid for own, rid in zip(source_ids, ids, strict=True)],
                pa.string(),
            ),
        ]
        return pa.Table.from_arrays(columns, schema=RAW_RECORDS_SCHEMA)

    def dead_letter_table(
        self,
        rows: list[tuple[int, str | None, datetime, str, bytes]],
        eventhub: str,
        partition_id: str,
        ingested_at: datetime,
    ) -> pa.Table:
        seqs, offsets, enqueued, reasons, bodies = zip(*rows, strict=True)
        columns = [
            pa.repeat(pa.scalar(eventhub, pa.string()), len(rows)),
            pa.repeat(pa.scalar(partition_id, pa.string()), len(rows)),
            pa.array(seqs, pa.int64()),
            pa.array(offsets, pa.string()),
            pa.array(enqueued, _TIMESTAMP),
            pa.array(reasons, pa.string()),
            pa.array(bodies, pa.binary()),
            pa.array([len(body) for body in bodies], pa.int64()),
            pa.repeat(pa.scalar(ingested_at, _TIMESTAMP), len(rows)),
        ]
        return pa.Table.from_arrays(columns, schema=DEADLETTER_SCHEMA)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class RawBatchWriter:
    """Parses events of one (hub, partition) into a bounded in-memory batch; flushes it to Parquet.

    `max_records` / `max_bytes` bound the buffer: the caller flushes when `is_full`. One event can
    overshoot the bound by at most its own size.
    """

    def __init__(
        self,
        data_dir: Path,
        eventhub: str,
        partition_id: str,
        *,
        max_records: int = DEFAULT_MAX_RECORDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        future_fallback: bool = True,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if max_records < 1 or not 1 <= max_bytes <= _MAX_BUFFER_BYTES:
            raise ValueError(
                f"max_records must be positive and max_bytes within 1..{_MAX_BUFFER_BYTES}"
            )
        self.data_dir = Path(data_dir)
        self.eventhub = eventhub
        self.partition_id = str(partition_id)
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._clock = clock
        self.future_fallback = future_fallback
        """Absurd future times fall back to the enqueued time (an archive has none: False)."""
        self._texts = _TextBuffer(max_bytes + _TEXT_SLACK_BYTES)
        self._spare = _TextBuffer(max_bytes + _TEXT_SLACK_BYTES)
        self._texts.in_use = True
        self._pending = _Pending(self._texts)
        self._last_seen_seq: int | None = None

    @property
    def pending_events(self) -> int:
        return len(self._pending.events)

    @property
    def pending_records(self) -> int:
        return len(self._pending.rows)

    @property
    def pending_bytes(self) -> int:
        return self._pending.buffered_bytes

    @property
    def is_full(self) -> bool:
        return self.pending_records >= self.max_records or self.pending_bytes >= self.max_bytes

    def add_event(
        self,
        body: bytes,
        *,
        sequence_number: int,
        offset: str | int | None,
        enqueued_time: datetime,
        note: str | None = None,
        dead_letter_reason: str | None = None,
    ) -> EventOutcome:
        """Parse one event and buffer its records and/or its dead letter.

        `note` is added to a dead-letter reason (how the bytes were taken from the event);
        `dead_letter_reason` dead-letters the bytes without parsing them. Never raises on bad
        input, even on a parser bug (the event is dead-lettered with the exception's name);
        raises ValueError if sequence numbers do not increase (a caller bug that would break file
        naming).
        """
        if self._last_seen_seq is not None and sequence_number <= self._last_seen_seq:
            raise ValueError(
                f"sequence number {sequence_number} after {self._last_seen_seq}: "
                "events must be added in increasing sequence order"
            )
        self._last_seen_seq = sequence_number
        body = bytes(body)
        enqueued = _as_utc(enqueued_time)
        position = (sequence_number, None if offset is None else str(offset), enqueued)
        if dead_letter_reason is not None:
            parsed = ParsedEvent([], [], [], dead_letter_reason)
        else:
            try:
                parsed = parse_event(body, enqueued, self.future_fallback, with_ids=False)
            except Exception as exc:
                parsed = ParsedEvent(
                    [], [], [], f"parsing failed unexpectedly ({type(exc).__name__}: {exc})"
                )
        pending = self._pending
        event = len(pending.events)
        for fields, index, repaired in zip(
            parsed.fields, parsed.indexes, parsed.repaired, strict=True
        ):
            pending.add(fields, index, repaired, event)
        pending.events.append(position)
        pending.body_bytes += len(body)
        reason = parsed.dead_letter_reason
        if reason is not None:
            reason = reason if note is None else f"{reason} ({note})"
            pending.dead_letters.append((*position, reason, body))
            pending.buffered_bytes += len(body)
        return EventOutcome(len(parsed.fields), sum(parsed.repaired), reason)

    def flush(self) -> FlushSummary:
        """Write the buffer atomically (one file per category and hour, plus dead letters per
        enqueued hour); return what was written and clear the buffer. On error the buffer is
        kept and nothing may be checkpointed."""
        sealed = self.seal()
        if sealed is None:
            return FlushSummary(self.eventhub, self.partition_id)
        try:
            return sealed.write()
        except BaseException:
            self._texts, self._spare = sealed.pending.texts, self._texts
            self._spare.clear()
            self._spare.in_use = False
            self._pending = sealed.pending
            raise

    def seal(self) -> SealedBatch | None:
        """Hand the buffered batch over for writing (None when empty) and start a new one.

        The new batch fills the other of two text buffers while the sealed one is written, for
        example on another thread; the sealed batch must be written before the next `seal()`.
        """
        pending = self._pending
        if not pending.events:
            return None
        if self._spare.in_use:
            raise RuntimeError("the previous sealed batch must be written before sealing another")
        sealed = SealedBatch(self, pending, _as_utc(self._clock()))
        self._texts, self._spare = self._spare, self._texts
        self._texts.in_use = True
        self._pending = _Pending(self._texts)
        return sealed


class SealedBatch:
    """One batch taken out of a writer, ready to be written to the lake exactly once."""

    def __init__(self, writer: RawBatchWriter, pending: _Pending, ingested_at: datetime) -> None:
        self.writer = writer
        self.pending = pending
        self.ingested_at = ingested_at

    def write(self) -> FlushSummary:
        """Write every file of the batch (in parallel: Parquet encoding and fsync release the
        GIL), then release its text buffer to the writer."""
        pending = self.pending
        seq_range = (pending.events[0][0], pending.events[-1][0])
        with ThreadPoolExecutor(max_workers=_WRITE_THREADS) as pool:
            raw = self._write_records(pool, seq_range)
            dead = self._write_dead_letters(pool, seq_range)
            written = [future.result() for future in (*raw, *dead)]
            # One directory per category and hour: their fsyncs overlap like the files' do.
            list(pool.map(fsync_dir, {item.path.parent for item in written}))
        summary = self._summary(written)
        pending.texts.clear()
        pending.texts.in_use = False
        # Arrow's allocator keeps freed pages for reuse; hand them back so a drain's resident
        # memory stays near one batch instead of the allocator's high-water mark.
        pa.default_memory_pool().release_unused()
        return summary

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        table: Callable[[], pa.Table],
        path: LakePath,
        category: str | None,
        hour: datetime,
    ) -> Future[_Written]:
        """Write the file of ``table()`` (built in the writing thread, so that only the files
        being written are in memory besides the batch)."""

        def write() -> _Written:
            rows = table()
            if category is None:
                options: dict[str, Any] = {"compression": "zstd", "dictionary_columns": False}
            else:
                options = {
                    "compression": RAW_COMPRESSION,
                    "dictionary_columns": RAW_DICTIONARY_COLUMNS,
                    "statistics_columns": RAW_STATISTICS_COLUMNS,
                }
            size = write_parquet_atomic(rows, path, sync_directory=False, **options)
            return _Written(path, size, category, hour, rows.num_rows)

        return pool.submit(write)

    def _write_records(
        self, pool: ThreadPoolExecutor, seq_range: tuple[int, int]
    ) -> list[Future[_Written]]:
        pending, writer = self.pending, self.writer
        if not pending.rows:
            return []
        futures = []
        table = pending.records_table(
            pending.texts.as_array(), writer.eventhub, writer.partition_id, self.ingested_at
        )
        for category, hour, numbers in pending.category_hours():
            path = raw_file_path(
                writer.data_dir, category, hour, writer.eventhub, writer.partition_id, *seq_range
            )
            futures.append(self._submit(pool, _rows_of(table, numbers), path, category, hour))
        return futures

    def _write_dead_letters(
        self, pool: ThreadPoolExecutor, seq_range: tuple[int, int]
    ) -> list[Future[_Written]]:
        pending, writer = self.pending, self.writer
        by_hour: dict[datetime, list[tuple[int, str | None, datetime, str, bytes]]] = {}
        for row in pending.dead_letters:
            by_hour.setdefault(hour_start(row[2]), []).append(row)
        futures = []
        for hour, rows in sorted(by_hour.items()):
            table = pending.dead_letter_table(
                rows, writer.eventhub, writer.partition_id, self.ingested_at
            )
            path = deadletter_file_path(
                writer.data_dir, hour, writer.eventhub, writer.partition_id, *seq_range
            )
            futures.append(self._submit(pool, _whole(table), path, None, hour))
        return futures

    def _summary(self, written: list[_Written]) -> FlushSummary:
        pending, writer = self.pending, self.writer
        raw = [item for item in written if item.category is not None]
        per_category: Counter[str] = Counter()
        per_hour: Counter[str] = Counter()
        for item in raw:
            per_category[item.category or ""] += item.rows
            per_hour[hour_key(item.hour)] += item.rows
        return FlushSummary(
            eventhub=writer.eventhub,
            partition_id=writer.partition_id,
            events=len(pending.events),
            records=len(pending.rows),
            dead_letters=len(pending.dead_letters),
            repaired=sum(pending.repaired),
            invalid_category=pending.invalid_category,
            records_per_category=dict(sorted(per_category.items())),
            records_per_time_source=dict(
                sorted(Counter(row[_ROW_TIME_SOURCE] for row in pending.rows).items())
            ),
            hours_touched=tuple(sorted(per_hour)),
            records_per_hour=dict(sorted(per_hour.items())),
            files=tuple(item.path for item in written),
            first_sequence_number=pending.events[0][0],
            last_sequence_number=pending.events[-1][0],
            last_offset=pending.events[-1][1],
            last_enqueued_time=pending.events[-1][2],
            body_bytes=pending.body_bytes,
            bytes_written=sum(item.size for item in written),
        )


def _rows_of(table: pa.Table, numbers: list[int] | None) -> Callable[[], pa.Table]:
    """The rows `numbers` of `table` (all of them for None), taken when called."""
    if numbers is None:
        return _whole(table)
    return lambda: table.take(pa.array(numbers, pa.int32()))


def _whole(table: pa.Table) -> Callable[[], pa.Table]:
    return lambda: table


@dataclass(frozen=True, slots=True)
class _Written:
    path: LakePath
    size: int
    category: str | None
    hour: datetime
    rows: int
