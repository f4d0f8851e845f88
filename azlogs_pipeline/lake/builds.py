"""Build records: what each built partition file was made from, readable from directory listings.

Every built table-hour (and summary partition) keeps, beside its partition file (`part.parquet`
locally, its versions `part-*.parquet` on a blob lake), one small JSON manifest named
``_inputs-<digest>.json``: the digest (in the name) identifies the inputs the build read, the body
lists them for people (raw file names and sizes, or the table hours a summary read). Because the
digest is in the name, "is this partition up to date?" is answered by listing its directory,
never by reading a Parquet file, locally as in a blob container (`storage.list_files`).

A partition built from no input (an hour whose raw files were all removed, a summary window
without table hours) has the manifest of `NO_INPUTS`, which counts as "never built": such a
partition is rebuilt once (its rows removed; on blobs an empty version hides the old one) and then
left alone.

`replace_partition` is the one place that writes or removes a partition's file and its manifest:
the file first (`parquet.replace_partition_file`: an atomic rename locally, a new version on
blobs), then the new manifest, then the old ones. A build killed between the steps leaves a
partition that does not match its inputs, which is rebuilt.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import orjson

from azlogs_pipeline.lake.parquet import (
    PartitionWriter,
    fsync_dir,
    replace_partition_file,
    write_bytes_atomic,
)
from azlogs_pipeline.lake.paths import (
    PARQUET_SUFFIX,
    is_partition_file_name,
    locks_dir,
    raw_categories,
    raw_category_dir,
    raw_hour_dir,
    scratch_dir,
)
from azlogs_pipeline.lake.storage import LakePath, ListedFile, list_files

INPUTS_PREFIX = "_inputs-"
INPUTS_SUFFIX = ".json"
NO_INPUTS = "0" * 32
"""The digest of an empty set of inputs (summary windows without any table hour)."""
INTERRUPTED = "interrupted"
"""What a partition was built from when its file has no single manifest (never a digest)."""


@dataclass(frozen=True, slots=True)
class RawFile:
    """One raw Parquet file as a directory listing shows it."""

    category: str
    name: str
    size: int

    def entry(self) -> str:
        return f"{self.category}/{self.name}:{self.size}"


def raw_digest(files: Iterable[RawFile]) -> str | None:
    """The digest of a table-hour's raw inputs; None when there are none (no manifest expected)."""
    entries = sorted(f.entry() for f in files)
    if not entries:
        return None
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:32]


def window_item(table: str, hour_key: str, digest: str) -> int:
    """One table hour of a summary's read window, as a 128-bit number (see `window_digest`)."""
    return int.from_bytes(
        hashlib.blake2b(f"{table}/{hour_key}/{digest}".encode(), digest_size=16).digest()
    )


def window_digest(items: Iterable[int]) -> str:
    """The digest of a summary's read window: the XOR of its table hours' `window_item`s.

    XOR makes the digest of any window a difference of two running prefixes, so reconciling
    thousands of overlapping 90-day windows stays linear; each (table, hour, digest) occurs at most
    once in a window, so nothing cancels out."""
    combined = 0
    for item in items:
        combined ^= item
    return f"{combined:032x}"


def _split(relative: str) -> tuple[str, str] | None:
    """(`YYYY-MM-DD-HH`, file name) of `date=D/hour=H/<name>`, (`YYYY-MM-DD`, name) of
    `date=D/<name>`; None for anything else."""
    parts = relative.split("/")
    if not parts[0].startswith("date="):
        return None
    if len(parts) == 2:
        return parts[0][5:], parts[1]
    if len(parts) == 3 and parts[1].startswith("hour="):
        return f"{parts[0][5:]}-{parts[1][5:]}", parts[2]
    return None


def _listing(root: LakePath, first: str | None, end: str | None) -> Iterator[ListedFile]:
    """Every file below `root`; with hour keys [first, end) only the days that hold them (one
    listing per day: a summary's window is short next to a table's history)."""
    if first is None or end is None:
        yield from list_files(root, recursive=True)
        return
    day = datetime.strptime(first[:10], "%Y-%m-%d")
    last = datetime.strptime(end[:10], "%Y-%m-%d")
    while day <= last:
        segment = f"date={day:%Y-%m-%d}"
        for listed in list_files(root / segment, recursive=True):
            yield ListedFile(f"{segment}/{listed.relative}", listed.size)
        day += timedelta(days=1)


def scan_raw(data_dir: Path) -> dict[str, list[RawFile]]:
    """Every raw file of the lake by event-time hour (`YYYY-MM-DD-HH`), from listings only (one
    recursive listing per category)."""
    found: dict[str, list[RawFile]] = {}
    for category in raw_categories(data_dir):
        for listed in list_files(raw_category_dir(data_dir, category), recursive=True):
            split = _split(listed.relative)
            if split is not None and len(split[0]) == 13 and split[1].endswith(PARQUET_SUFFIX):
                found.setdefault(split[0], []).append(RawFile(category, split[1], listed.size))
    return found


def raw_hour_inputs(data_dir: Path, moment: datetime) -> list[RawFile]:
    """The raw files of one event-time hour, every category, sorted (listings only)."""
    found = [
        RawFile(category, listed.name, listed.size)
        for category in raw_categories(data_dir)
        for listed in list_files(raw_hour_dir(data_dir, category, moment))
        if listed.name.endswith(PARQUET_SUFFIX)
    ]
    return sorted(found, key=RawFile.entry)


def _digest_of(name: str) -> str | None:
    if name.startswith(INPUTS_PREFIX) and name.endswith(INPUTS_SUFFIX):
        return name[len(INPUTS_PREFIX) : -len(INPUTS_SUFFIX)]
    return None


def manifest_digests(directory: LakePath) -> list[str]:
    """The digests of the manifests in one partition directory (one when it is up to date)."""
    digests = (_digest_of(listed.name) for listed in list_files(directory))
    return sorted(d for d in digests if d is not None)


def _built(digests: list[str], has_file: bool) -> str | None:
    """What a partition directory says it was built from: its digest, None (never built, or
    built from no inputs) or `INTERRUPTED` (a file without one manifest)."""
    if len(digests) == 1:
        return None if digests[0] == NO_INPUTS else digests[0]
    return INTERRUPTED if digests or has_file else None


def _scan_built(root: LakePath, length: int, first: str | None, end: str | None) -> dict[str, str]:
    digests: dict[str, list[str]] = {}
    files: set[str] = set()
    for listed in _listing(root, first, end):
        split = _split(listed.relative)
        if split is None or len(split[0]) != length:
            continue
        key, name = split
        if (first is not None and key < first[:length]) or (end is not None and key >= end):
            continue
        digest = _digest_of(name)
        if digest is not None:
            digests.setdefault(key, []).append(digest)
        elif is_partition_file_name(name):
            files.add(key)
    found = {}
    for key in set(digests) | files:
        built = _built(sorted(digests.get(key, [])), key in files)
        if built is not None:
            found[key] = built
    return found


def scan_built_hours(
    root: LakePath, first: str | None = None, end: str | None = None
) -> dict[str, str]:
    """`YYYY-MM-DD-HH` -> built digest for every built hour of a table or hourly summary (hour
    keys [first, end) when given); `INTERRUPTED` when the hour has a file but not one manifest (a
    build was interrupted)."""
    return _scan_built(root, len("YYYY-MM-DD-HH"), first, end)


def scan_built_days(root: LakePath) -> dict[str, str]:
    """`YYYY-MM-DD` -> built digest (or `INTERRUPTED`) for every built day of a daily summary."""
    return _scan_built(root, len("YYYY-MM-DD"), None, None)


@dataclass(frozen=True, slots=True)
class Replaced:
    """What `replace_partition` wrote."""

    rows: int
    path: LakePath | None
    """The file readers now take (a version on blobs); None when the partition has no rows."""
    size: int


def replace_partition(
    data_dir: Path,
    target: LakePath,
    write: PartitionWriter,
    digest: str | None,
    manifest: Mapping[str, object],
) -> Replaced:
    """Rebuild one partition file: `write(local)` writes the rows (`parquet.PartitionWriter`),
    which replace `target` atomically for readers (`parquet.replace_partition_file`; no rows: the
    partition has none); then the manifest of `digest` (`NO_INPUTS` when None) replaces the old
    ones.

    The rows go to a temporary sibling of `target` locally, under `<data dir>/scratch` on
    blobs."""
    rows = 0

    def counted(local: Path) -> int:
        nonlocal rows
        rows = write(local)
        return rows

    path, size = replace_partition_file(counted, target, scratch=scratch_dir(data_dir))
    directory = target.parent
    digest = digest or NO_INPUTS
    keep = f"{INPUTS_PREFIX}{digest}{INPUTS_SUFFIX}"
    body = orjson.dumps({"digest": digest, **manifest}, option=orjson.OPT_INDENT_2)
    write_bytes_atomic(directory / keep, body)
    for old in manifest_digests(directory):
        if old != digest:
            (directory / f"{INPUTS_PREFIX}{old}{INPUTS_SUFFIX}").unlink(missing_ok=True)
    fsync_dir(directory)
    return Replaced(rows, path, size)


@contextmanager
def partition_lock(data_dir: Path, area: str, key: str) -> Iterator[None]:
    """Hold the writer lock of one partition (`area` e.g. `tables`, `key` its hour or day):
    two builds of the same partition never write at once, whatever runs they belong to.

    An exclusive `flock` on `<data dir>/locks/<area>/<key>.lock`: the kernel releases it when its
    process dies, so a killed build never leaves a stale lock. It is a local file also for a blob
    lake: it covers the builds of one machine (or of a shared data dir), not of workers that
    share only the container."""
    directory = locks_dir(data_dir, area)
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


T = TypeVar("T")


def budget_runs(items: Iterable[T], size: Callable[[T], int], budget: int) -> Iterator[list[T]]:
    """`items` in order, in runs whose `size`s add up to at most `budget` bytes: the batches of a
    ranged build, which holds a whole batch's inputs at once (an item over the budget is a run of
    its own)."""
    run: list[T] = []
    total = 0
    for item in items:
        bytes_ = size(item)
        if run and total + bytes_ > budget:
            yield run
            run, total = [], 0
        run.append(item)
        total += bytes_
    if run:
        yield run
