"""Timestamps as integer ticks (100 ns since the Unix epoch) and the text shapes Azure writes them in.

Ticks keep arithmetic exact and cheap; the text is built from a per-second cache because formatting
is the hot path of the generator.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

TICKS_PER_SECOND = 10_000_000
SECOND = TICKS_PER_SECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Time text variants seen in the wild (reference: "Time formats"). "iso7" is the usual shape.
TIME_FORMATS = (
    "iso7",
    "iso7_offset_zero",
    "iso2",
    "iso9",
    "iso_offset_minus5",
    "iso_no_zone",
    "single_digit_hour",
    "us_12h",
    "us_12h_offset",
    "us_24h_padded",
)


def to_ticks(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return (moment - _EPOCH) // timedelta(microseconds=1) * 10


def to_datetime(ticks: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ticks // 10)


def utc_day(ticks: int) -> int:
    return ticks // DAY


class Clock:
    """Formats ticks; caches the date-and-time prefix of each minute it has seen."""

    def __init__(self) -> None:
        self._parts: dict[int, tuple[int, int, int, int, int, int]] = {}
        self._base: dict[int, str] = {}  # minute -> "YYYY-MM-DDTHH:MM:"

    def _tm(self, sec: int) -> tuple[int, int, int, int, int, int]:
        parts = self._parts.get(sec)
        if parts is None:
            if len(self._parts) > 400_000:
                self._parts.clear()
            tm = time.gmtime(sec)
            parts = (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
            self._parts[sec] = parts
        return parts

    def base(self, sec: int) -> str:
        """``YYYY-MM-DDTHH:MM:SS`` of a Unix second."""
        minute, s = divmod(sec, 60)
        prefix = self._base.get(minute)
        if prefix is None:
            if len(self._base) > 100_000:
                self._base.clear()
            y, mo, d, h, mi, _ = self._tm(minute * 60)
            prefix = self._base[minute] = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:"
        return f"{prefix}{s:02d}"

    def iso(self, ticks: int) -> str:
        """The usual shape: 7 fractional digits and ``Z``."""
        sec, frac = divmod(ticks, TICKS_PER_SECOND)
        return f"{self.base(sec)}.{frac:07d}Z"

    def iso_offset(self, ticks: int) -> str:
        """7 fractional digits and ``+00:00`` (sign-in ``createdDateTime`` as usually seen)."""
        sec, frac = divmod(ticks, TICKS_PER_SECOND)
        return f"{self.base(sec)}.{frac:07d}+00:00"

    def iso_micro(self, ticks: int) -> str:
        """Canonical text for ground truth: microseconds and ``Z``."""
        sec, frac = divmod(ticks, TICKS_PER_SECOND)
        return f"{self.base(sec)}.{frac // 10:06d}Z"

    def fmt(self, ticks: int, kind: str) -> str:
        """Render ``ticks`` in one of ``TIME_FORMATS``; every shape denotes the same instant
        (to the precision the shape keeps)."""
        sec, frac = divmod(ticks, TICKS_PER_SECOND)
        if kind == "iso7":
            return f"{self.base(sec)}.{frac:07d}Z"
        if kind == "iso7_offset_zero":
            return f"{self.base(sec)}.{frac:07d}+00:00"
        if kind == "iso2":
            return f"{self.base(sec)}.{frac // 100_000:02d}Z"
        if kind == "iso9":
            return f"{self.base(sec)}.{frac:07d}{frac % 97:02d}Z"
        if kind == "iso_offset_minus5":
            return f"{self.base(sec - 5 * 3600)}.{frac:07d}-05:00"
        if kind == "iso_no_zone":
            return f"{self.base(sec)}.{frac:07d}"
        if kind == "single_digit_hour":
            y, mo, d, h, mi, s = self._tm(sec)
            return f"{y:04d}-{mo:02d}-{d:02d}T{h}:{mi:02d}:{s:02d}.{frac // 10_000:03d}Z"
        if kind == "us_12h":
            return self._us12(sec, "")
        if kind == "us_12h_offset":
            return self._us12(sec + 3600, " +01:00")
        if kind == "us_24h_padded":
            y, mo, d, h, mi, s = self._tm(sec)
            return f"{mo:02d}/{d:02d}/{y:04d} {h:02d}:{mi:02d}:{s:02d}"
        raise ValueError(f"unknown time format {kind!r}")

    def _us12(self, sec: int, suffix: str) -> str:
        y, mo, d, h, mi, s = self._tm(sec)
        half = "AM" if h < 12 else "PM"
        h12 = h % 12 or 12
        return f"{mo}/{d}/{y} {h12}:{mi:02d}:{s:02d} {half}{suffix}"
