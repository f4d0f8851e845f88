"""Which partitions need building, from the lake alone (directory listings, no Parquet reads).

A table-hour needs building when the raw files of its categories in that hour (names and sizes)
differ from the manifest its last build left (`lake.builds`), or when it has raw files and no
build, or a build and no raw files any more. A summary partition needs building when the table
hours of its read window (its window plus its look-back, exactly as it reads them) differ from what
it was built from; for a summary that reads another summary (`SummarySpec.summaries`) those are
also the table hours that summary's partitions read (`specs.input_window`). It is *ready* once
none of those table hours needs building itself, nor any partition it reads of another summary
(so it is built after them, never from their old rows).

Summary partitions considered are those whose own window holds a table hour of the summary's input
tables (or that were built before): a summary of an hour with no data is never built, as before.

This is what `azlogs run` builds and what the Dagster sensor requests: a run killed or failed at any
instant leaves a difference here, so the partition is built again; an unchanged one never is.
Hours outside the partitions that exist (before `AZLOGS_PARTITION_START`, or after the current
hour) are reported, never built, and built once their hour exists.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from azlogs_pipeline.lake.builds import (
    RawFile,
    raw_digest,
    scan_built_days,
    scan_built_hours,
    scan_raw,
    window_digest,
    window_item,
)
from azlogs_pipeline.lake.paths import hour_key, hour_start, summary_root, table_root
from azlogs_pipeline.normalize.tables import TABLES
from azlogs_pipeline.summarize.specs import (
    DAY_GRAIN,
    SUMMARIES,
    SummarySpec,
    input_tables,
    input_window,
)


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """What the lake says needs building now (keys `YYYY-MM-DD-HH`, days `YYYY-MM-DD`)."""

    table_hours: tuple[str, ...]
    """Hours whose tables need building (within the partitions), oldest first."""
    summary_partitions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Summary name -> partitions that need building and are ready (their table hours are built)."""
    waiting_summaries: int = 0
    """Summary partitions that need building once their table hours are built."""
    out_of_range: tuple[str, ...] = ()
    """Hours with raw files outside the existing partitions: reported, built once they exist."""
    raw_bytes: dict[str, int] = field(default_factory=dict)
    """Hour key -> bytes of its raw files (every category), as listed: what a build reads."""

    @property
    def waiting(self) -> int:
        """Partitions that need building (table hours, then summaries ready or not)."""
        ready = sum(len(keys) for keys in self.summary_partitions.values())
        return len(self.table_hours) + ready + self.waiting_summaries

    @property
    def oldest(self) -> str | None:
        """The oldest hour or day that needs building, if any."""
        keys = [*self.table_hours, *(k for ks in self.summary_partitions.values() for k in ks)]
        return min(keys) if keys else None

    def summary_hours(self, hourly: Iterable[str]) -> list[str]:
        """The ready hours of the given hourly summaries, oldest first."""
        return sorted({k for name in hourly for k in self.summary_partitions.get(name, ())})

    def summary_days(self, daily: Iterable[str]) -> list[str]:
        """The ready days of the given daily summaries, oldest first."""
        return sorted({k for name in daily for k in self.summary_partitions.get(name, ())})


def expected_table_digests(data_dir: Path) -> dict[str, dict[str, str]]:
    """Table -> hour key -> digest of the raw inputs present now (hours with inputs only)."""
    return _expected(scan_raw(data_dir))


def _expected(raw: dict[str, list[RawFile]]) -> dict[str, dict[str, str]]:
    expected: dict[str, dict[str, str]] = {spec.name: {} for spec in TABLES}
    for key, files in raw.items():
        for spec in TABLES:
            digest = raw_digest(spec.inputs(files))
            if digest is not None:
                expected[spec.name][key] = digest
    return expected


class _Window:
    """Prefix XORs over the table hours of a summary's tables, for O(log n) window digests."""

    def __init__(self, spec: SummarySpec, digests: dict[str, dict[str, str]]) -> None:
        items = sorted(
            (key, window_item(table, key, digest))
            for table in input_tables(spec)
            for key, digest in digests.get(table, {}).items()
        )
        self.keys = [key for key, _ in items]
        self.prefix = [0]
        for _, item in items:
            self.prefix.append(self.prefix[-1] ^ item)

    def digest(self, start_key: str, end_key: str) -> str:
        i = bisect.bisect_left(self.keys, start_key)
        j = bisect.bisect_left(self.keys, end_key)
        return window_digest([self.prefix[j] ^ self.prefix[i]])

    def owned(self, spec: SummarySpec) -> set[str]:
        """Partitions whose own window holds a table hour."""
        if spec.grain == DAY_GRAIN:
            return {key[: len("YYYY-MM-DD")] for key in self.keys}
        return set(self.keys)


def _in_range(key: str, first: str, last: str) -> bool:
    return first <= key <= last


def plan_builds(data_dir: Path, first_hour: datetime, last_hour: datetime) -> BuildPlan:
    """Which table hours and summary partitions need building, with hours limited to the
    partitions [first_hour, last_hour] (both included) that exist."""
    first, last = hour_key(hour_start(first_hour)), hour_key(hour_start(last_hour))
    raw = scan_raw(data_dir)
    expected = _expected(raw)
    pending: set[str] = set()
    for spec in TABLES:
        want = expected[spec.name]
        built = scan_built_hours(table_root(data_dir, spec.name))
        for key in set(want) | set(built):
            if want.get(key) != built.get(key):
                pending.add(key)
    present = {key for digests in expected.values() for key in digests} | pending
    outside = sorted(key for key in present if not _in_range(key, first, last))
    table_hours = sorted(key for key in pending if _in_range(key, first, last))
    pending_sorted = sorted(pending)

    summaries: dict[str, tuple[str, ...]] = {}
    differing: dict[str, list[str]] = {}
    waiting = 0
    for summary in SUMMARIES:
        window = _Window(summary, expected)
        root = summary_root(data_dir, summary.name)
        daily = summary.grain == DAY_GRAIN
        built = scan_built_days(root) if daily else scan_built_hours(root)
        ready, differs = [], []
        for partition in sorted(window.owned(summary) | set(built)):
            start_key, end_key = input_window(summary, partition)
            bounds = (first[: len(partition)], last[: len(partition)])
            if not _in_range(partition, *bounds):
                continue
            if window.digest(start_key, end_key) == built.get(partition):
                continue
            differs.append(partition)
            if _any_within(pending_sorted, start_key, end_key) or any(
                _any_within(differing[upstream], *summary.read_window(partition))
                for upstream in summary.summaries
            ):
                waiting += 1
            else:
                ready.append(partition)
        differing[summary.name] = differs
        if ready:
            summaries[summary.name] = tuple(ready)
    sizes = {key: sum(f.size for f in files) for key, files in raw.items()}
    return BuildPlan(tuple(table_hours), summaries, waiting, tuple(outside), sizes)


def _any_within(keys: list[str], start_key: str, end_key: str) -> bool:
    """True when the sorted `keys` hold one in [start_key, end_key)."""
    i = bisect.bisect_left(keys, start_key)
    return i < len(keys) and keys[i] < end_key
