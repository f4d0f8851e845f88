"""Packing records into Event Hubs bodies the way a diagnostic setting does.

One publication window (about five minutes) at a time: records grouped by category, in
publication order, cut into ``{"records": [...]}`` bodies below the size limit. Now and then a
body carries two categories, a bare JSON array, or (for a single record) a bare object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from .quirks import Quirks
from .rand import Rng

ENVELOPE_OVERHEAD = len(b'{"records":[]}')
MIXED_RATE = 0.04
BARE_ARRAY_RATE = 0.02
BARE_OBJECT_RATE = 0.25  # of single-record bodies


@dataclass
class Body:
    data: bytes
    records: list[dict[str, Any]] = field(default_factory=list)
    categories: tuple[str, ...] = ()
    shape: str = "records"  # records | array | object | malformed
    defect: str | None = None
    duplicate_of: int | None = None


class Packer:
    def __init__(self, rng: Rng, q: Quirks, max_bytes: int) -> None:
        self.rng = rng
        self.q = q
        self.max_bytes = max_bytes

    def pack(self, items: list[tuple[str, dict[str, Any]]]) -> list[Body]:
        """``items`` are (category, record) in publication order."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for category, rec in items:
            group = groups.get(category)
            if group is None:
                group = groups[category] = []
            group.append(rec)
        chunks: list[tuple[list[str], list[dict[str, Any]], bytes]] = []
        for category, group in groups.items():
            self._split(category, group, chunks)
        limit = self.max_bytes - ENVELOPE_OVERHEAD
        merged: list[tuple[list[str], list[dict[str, Any]], bytes]] = []
        for chunk in chunks:
            if (
                merged
                and self.rng.random() < MIXED_RATE
                and len(merged[-1][2]) + len(chunk[2]) <= limit
                and chunk[0][0] not in merged[-1][0]
            ):
                cats, recs, raw = merged.pop()
                self.q.seen["body:mixed_categories"] += 1
                merged.append((cats + chunk[0], recs + chunk[1], raw[:-1] + b"," + chunk[2][1:]))
            else:
                merged.append(chunk)
        return [self._body(cats, recs, raw) for cats, recs, raw in merged]

    def _split(
        self,
        category: str,
        recs: list[dict[str, Any]],
        out: list[tuple[list[str], list[dict[str, Any]], bytes]],
    ) -> None:
        """Serialise ``recs`` as one JSON array, cut into near-equal parts while too large."""
        raw = orjson.dumps(recs)
        if len(raw) + ENVELOPE_OVERHEAD <= self.max_bytes or len(recs) == 1:
            out.append(([category], recs, raw))
            return
        parts = max(2, math.ceil(len(raw) / ((self.max_bytes - ENVELOPE_OVERHEAD) * 0.92)))
        size = math.ceil(len(recs) / parts)
        for i in range(0, len(recs), size):
            self._split(category, recs[i : i + size], out)

    def _body(self, cats: list[str], recs: list[dict[str, Any]], raw: bytes) -> Body:
        """``raw`` is the JSON array of ``recs``."""
        r = self.rng.random()
        if len(recs) == 1 and r < BARE_OBJECT_RATE:
            self.q.seen["body:bare_object"] += 1
            return Body(raw[1:-1], recs, tuple(cats), "object")
        if r < BARE_ARRAY_RATE:
            self.q.seen["body:bare_array"] += 1
            return Body(raw, recs, tuple(cats), "array")
        return Body(b'{"records":' + raw + b"}", recs, tuple(cats), "records")
