"""Partition-key hashing as Event Hubs does it: Jenkins lookup3 (hashlittle2) of the UTF-8 key.

The 16-bit hash code is ``(c ^ b) & 0xFFFF`` read as a signed short, and the partition index is
``abs(code % count)`` with a remainder that keeps the dividend's sign (as in C#), so a key lands
where the service's own resolver would put it.
"""

from __future__ import annotations

_M = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M


def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    a = ((a - c) & _M) ^ _rot(c, 4)
    c = (c + b) & _M
    b = ((b - a) & _M) ^ _rot(a, 6)
    a = (a + c) & _M
    c = ((c - b) & _M) ^ _rot(b, 8)
    b = (b + a) & _M
    a = ((a - c) & _M) ^ _rot(c, 16)
    c = (c + b) & _M
    b = ((b - a) & _M) ^ _rot(a, 19)
    a = (a + c) & _M
    c = ((c - b) & _M) ^ _rot(b, 4)
    b = (b + a) & _M
    return a, b, c


def _final(a: int, b: int, c: int) -> tuple[int, int, int]:
    c = ((c ^ b) - _rot(b, 14)) & _M
    a = ((a ^ c) - _rot(c, 11)) & _M
    b = ((b ^ a) - _rot(a, 25)) & _M
    c = ((c ^ b) - _rot(b, 16)) & _M
    a = ((a ^ c) - _rot(c, 4)) & _M
    b = ((b ^ a) - _rot(a, 14)) & _M
    c = ((c ^ b) - _rot(b, 24)) & _M
    return a, b, c


def _word(data: bytes, pos: int, n: int = 4) -> int:
    return int.from_bytes(data[pos : pos + n], "little")


def lookup3(data: bytes) -> tuple[int, int]:
    """Bob Jenkins' hashlittle2 with both seeds 0; returns ``(c, b)``."""
    length = len(data)
    a = b = c = (0xDEADBEEF + length) & _M
    pos = 0
    while length > 12:
        a = (a + _word(data, pos)) & _M
        b = (b + _word(data, pos + 4)) & _M
        c = (c + _word(data, pos + 8)) & _M
        a, b, c = _mix(a, b, c)
        pos += 12
        length -= 12
    if length == 0:
        return c, b
    tail = data[pos:] + bytes(12 - length)
    a = (a + _word(tail, 0)) & _M
    b = (b + _word(tail, 4)) & _M
    c = (c + _word(tail, 8)) & _M
    a, b, c = _final(a, b, c)
    return c, b


def partition_index(key: str, partition_count: int) -> int:
    """Index of the partition that ``key`` maps to among ``partition_count`` partitions."""
    if not key:
        return 0
    c, b = lookup3(key.encode("utf-8"))
    code = (c ^ b) & 0xFFFF
    if code >= 0x8000:
        code -= 0x10000
    return abs(code) % partition_count
