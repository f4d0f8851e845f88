"""Append-only log file of one partition, so a restarted emulator keeps its events.

Record: magic (2 bytes), kind (1), payload length (4), CRC-32 of the payload (4), payload.
An event record's payload is sequence number, offset, enqueued time (ms), header length and the
stored event bytes; a trim record's payload is the new first sequence number (events dropped by
retention). A torn or corrupt tail (a crash mid-write) is cut off when the log is opened.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

_LOG = logging.getLogger(__name__)

_RECORD = struct.Struct(">HBII")
_EVENT = struct.Struct(">qqqI")
_TRIM = struct.Struct(">qqqqq")
_MAGIC = 0xE7B5
KIND_EVENT = 1
KIND_TRIM = 2
_READ_CHUNK = 8 * 1024 * 1024


class Trim(NamedTuple):
    """Retention dropped events before ``first_sequence``; the rest is the partition's tip."""

    first_sequence: int
    next_sequence: int
    next_offset: int
    last_offset: int
    last_ms: int


class LoggedEvent(NamedTuple):
    sequence_number: int
    offset: int
    enqueued_ms: int
    header_length: int
    position: int  # file position of the stored event bytes
    length: int


class EventLog:
    """One partition's log file; all methods run on the emulator's event-loop thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._size = 0

    def load(self) -> Iterator[LoggedEvent | Trim]:
        """Yield the records in order; cut off a torn or corrupt tail."""
        total = os.fstat(self._fd).st_size
        pos = 0
        buf = b""
        buf_start = 0
        while pos < total:
            need = _RECORD.size
            if pos + need > buf_start + len(buf):
                buf = os.pread(self._fd, max(_READ_CHUNK, need), pos)
                buf_start = pos
            header = buf[pos - buf_start : pos - buf_start + need]
            if len(header) < need:
                break
            magic, kind, length, crc = _RECORD.unpack(header)
            end = pos + need + length
            if magic != _MAGIC or end > total:
                break
            if end > buf_start + len(buf):
                buf = os.pread(self._fd, max(_READ_CHUNK, end - pos), pos)
                buf_start = pos
            payload = memoryview(buf)[pos - buf_start + need : end - buf_start]
            if zlib.crc32(payload) != crc:
                break
            if kind == KIND_EVENT:
                seq, offset, ms, head = _EVENT.unpack_from(payload, 0)
                start = pos + need + _EVENT.size
                yield LoggedEvent(seq, offset, ms, head, start, end - start)
            elif kind == KIND_TRIM:
                yield Trim(*_TRIM.unpack_from(payload, 0))
            pos = end
        if pos < total:
            _LOG.warning(
                "%s: dropping %d bytes of torn or corrupt log tail", self.path, total - pos
            )
            os.ftruncate(self._fd, pos)
        self._size = pos

    def append(self, events: list[tuple[int, int, int, int, bytes]]) -> list[int]:
        """Append ``(seq, offset, enqueued_ms, header_len, data)`` records; return data positions."""
        parts: list[bytes] = []
        positions = []
        pos = self._size
        for seq, offset, ms, head, data in events:
            meta = _EVENT.pack(seq, offset, ms, head)
            crc = zlib.crc32(data, zlib.crc32(meta))
            parts += [_RECORD.pack(_MAGIC, KIND_EVENT, len(meta) + len(data), crc), meta, data]
            positions.append(pos + _RECORD.size + len(meta))
            pos += _RECORD.size + len(meta) + len(data)
        self._write(b"".join(parts))
        return positions

    def append_trim(self, trim: Trim) -> None:
        payload = _TRIM.pack(*trim)
        self._write(_RECORD.pack(_MAGIC, KIND_TRIM, len(payload), zlib.crc32(payload)) + payload)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.pwrite(self._fd, view, self._size)
            self._size += written
            view = view[written:]

    def read(self, position: int, length: int) -> bytes:
        return os.pread(self._fd, length, position)

    def compact(self, keep: list[LoggedEvent]) -> list[int]:
        """Rewrite the file with only the ``keep`` events (after retention); atomic rename."""
        tmp = self.path.with_suffix(".compact")
        fresh = EventLog(tmp)
        os.ftruncate(fresh._fd, 0)
        positions: list[int] = []
        group: list[tuple[int, int, int, int, bytes]] = []
        group_bytes = 0
        for event in keep:
            data = self.read(event.position, event.length)
            group.append(
                (event.sequence_number, event.offset, event.enqueued_ms, event.header_length, data)
            )
            group_bytes += len(data)
            if group_bytes >= _READ_CHUNK:
                positions += fresh.append(group)
                group, group_bytes = [], 0
        positions += fresh.append(group)
        os.fsync(fresh._fd)
        os.replace(tmp, self.path)
        os.close(self._fd)
        self._fd, self._size = fresh._fd, fresh._size
        return positions

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
