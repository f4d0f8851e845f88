"""Seeded randomness helpers: every draw goes through one ``random.Random`` so runs repeat."""

from __future__ import annotations

import base64
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


class Rng(random.Random):
    """``random.Random`` with the few identifier shapes the logs use."""

    def guid(self) -> str:
        h = f"{self.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"

    def hexstr(self, chars: int) -> str:
        return f"{self.getrandbits(chars * 4):0{chars}x}"

    def token(self, chars: int = 22) -> str:
        """Base64url text, like ``uniqueTokenIdentifier``."""
        raw = self.getrandbits(chars * 6).to_bytes((chars * 6 + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).decode()[:chars]

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.random() < p


def weighted_table(items: Sequence[tuple[T, float]], size: int = 10_000) -> list[T]:
    """A lookup table so that a weighted draw is one ``rng.pick`` (much faster than choices)."""
    total = sum(w for _, w in items)
    table: list[T] = []
    acc = 0.0
    for item, w in items:
        acc += w
        while len(table) < round(acc / total * size):
            table.append(item)
    return table
