"""Atomic Parquet writes: a reader sees either the old file, the new file, or no file; never half.

Local lake: the file is written under a temporary name in the target directory (same filesystem, so
the rename is atomic), flushed and fsynced, renamed over the final name with `os.replace`, and the
directory is fsynced so the rename itself survives a power loss. Temporary names start with a dot
and end in `.tmp`, so globs over `*.parquet` never see them.

Blob lake: the file is written to a local temporary file, then uploaded in one commit (Put Blob, or
staged blocks and one Put Block List; see lake/storage.py), so the blob is complete or absent.

Replacing a partition (a table-hour, a summary hour or day) goes through
`replace_partition_file`: `os.replace` locally; on blobs a new version (a blob cannot be renamed,
and overwriting one mid-read would mix two builds: DuckDB fetches byte ranges without pinning the
ETag), with superseded versions deleted only after `SUPERSEDED_GRACE_SECONDS`.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from azlogs_pipeline.lake.paths import new_version_path, partition_versions, version_micros
from azlogs_pipeline.lake.storage import BlobPath, LakePath

TEMP_SUFFIX = ".tmp"
DEFAULT_COMPRESSION = "zstd"


def temp_path_for(path: Path) -> Path:
    """A unique temporary sibling of `path` (hidden, `.tmp`)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}")


def fsync_dir(directory: LakePath) -> None:
    """Make a rename inside `directory` durable (no-op where directories cannot be opened, and
    on blobs, where a committed upload is durable already)."""
    if isinstance(directory, BlobPath):
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet_atomic(
    table: pa.Table,
    path: LakePath,
    *,
    compression: str | Mapping[str, str] = DEFAULT_COMPRESSION,
    dictionary_columns: Sequence[str] | bool = True,
    row_group_size: int | None = None,
    sync_directory: bool = True,
    statistics_columns: Sequence[str] | bool = True,
) -> int:
    """Write `table` to `path` atomically and durably; return the file size in bytes.

    ``compression`` is one codec, or a codec per column name.

    ``statistics_columns`` limits min/max statistics to the columns that benefit (none for long
    JSON text, whose statistics cost time and help no filter).

    With ``sync_directory=False`` the caller fsyncs the directory itself, once for many files,
    before it relies on the rename (for example before a checkpoint moves).
    """
    options = _write_options(
        compression=compression,
        dictionary_columns=dictionary_columns,
        row_group_size=row_group_size,
        statistics_columns=statistics_columns,
    )
    if isinstance(path, BlobPath):
        return _upload_parquet(table, path, options)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    try:
        pq.write_table(table, tmp, **options)
        fsync_file(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_directory:
        fsync_dir(path.parent)
    return size


def _write_options(
    *,
    compression: str | Mapping[str, str] = DEFAULT_COMPRESSION,
    dictionary_columns: Sequence[str] | bool = True,
    row_group_size: int | None = None,
    statistics_columns: Sequence[str] | bool = True,
) -> dict[str, Any]:
    """`pyarrow.parquet.write_table` options (see `write_parquet_atomic`)."""
    return {
        "compression": compression if isinstance(compression, str) else dict(compression),
        "use_dictionary": list(dictionary_columns)
        if not isinstance(dictionary_columns, bool)
        else dictionary_columns,
        "row_group_size": row_group_size,
        "write_statistics": list(statistics_columns)
        if not isinstance(statistics_columns, bool)
        else statistics_columns,
    }


def write_bytes_atomic(path: LakePath, data: bytes) -> None:
    """Write a small file (a manifest) complete or absent: locally a temporary sibling renamed
    over `path`; on blobs one Put Blob. The caller fsyncs the directory."""
    if isinstance(path, BlobPath):
        path.write_bytes(data)
        return
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def open_parquet(path: LakePath) -> pq.ParquetFile:
    """A Parquet file of the lake, local or in the blob container (downloaded in one request)."""
    if isinstance(path, BlobPath):
        return pq.ParquetFile(pa.BufferReader(path.read_bytes()))
    return pq.ParquetFile(path)


def _upload_parquet(table: pa.Table, path: BlobPath, options: Mapping[str, Any]) -> int:
    with tempfile.TemporaryDirectory(prefix="azlogs-upload-") as scratch:
        local = Path(scratch) / path.name
        pq.write_table(table, local, **options)
        return path.upload_file(local)


SUPERSEDED_GRACE_SECONDS = 24 * 3600.0
"""How long a superseded version of a blob partition stays. A DuckDB scan opens every file its
glob listed (the version filter drops rows, not files), so deleting a listed file fails the scans
in flight at that instant; superseded versions therefore stay a day, and a later rebuild of the same
partition deletes them (a query running at that very moment over that table may fail once)."""


PartitionWriter = Callable[[Path], int]
"""Writes a partition's rows as Parquet to the given local file (every time, also with no rows)
and returns how many rows it wrote."""


def table_writer(table: pa.Table, **write_options: Any) -> PartitionWriter:
    """A `PartitionWriter` of an Arrow table (options as for `write_parquet_atomic`)."""
    options = _write_options(**write_options)

    def write(local: Path) -> int:
        pq.write_table(table, local, **options)
        return int(table.num_rows)

    return write


def replace_partition_file(
    content: pa.Table | PartitionWriter,
    target: LakePath,
    *,
    now: float | None = None,
    scratch: Path | None = None,
    **write_options: Any,
) -> tuple[LakePath | None, int]:
    """Make `content` (an Arrow table, or a `PartitionWriter` that streams the rows to a local
    file) the content of the partition file `target` (a `.../part.parquet` of a table-hour or
    summary partition), atomically for readers; return (file written, bytes).

    Locally the rows are written to a temporary sibling of `target`, fsynced and renamed over it;
    with no rows `target` is removed. On blobs they are written under `scratch` (a local
    directory; the system's temporary one by default) and uploaded as a new version; with no rows
    an empty version is published over older ones (readers see zero rows, never the old build),
    and nothing is written when there was no version. The file returned is None for no rows.
    """
    write = content if callable(content) else table_writer(content, **write_options)
    if not isinstance(target, BlobPath):
        return _replace_local(Path(target), write)
    versions = partition_versions(target)
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".azlogs-upload-", dir=scratch) as directory:
        local = Path(directory) / f"{target.name}{TEMP_SUFFIX}"
        rows = write(local)
        if not rows and not versions:
            return None, 0
        # Stamped when written, not when the build began: a version must not be older than the
        # readers' settle time when it first appears (catalog.SETTLE_SECONDS), or a query that
        # listed the area just before it appeared would choose it and read no file of the partition.
        moment = time.time() if now is None else now
        new = new_version_path(target, int(moment * 1_000_000))
        assert isinstance(new, BlobPath)
        size = new.upload_file(local)
    drop_superseded([*versions, new], moment)
    return (new if rows else None), size


def _replace_local(target: Path, write: PartitionWriter) -> tuple[Path | None, int]:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    try:
        rows = write(tmp)
        if rows:
            fsync_file(tmp)
            size = tmp.stat().st_size
            os.replace(tmp, target)
        else:
            tmp.unlink(missing_ok=True)
            target.unlink(missing_ok=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
    return (target, size) if rows else (None, 0)


def drop_superseded(versions: Sequence[LakePath], now: float) -> int:
    """Delete the versions (oldest first) superseded more than the grace period ago; the newest
    always stays. Returns how many were deleted."""
    cutoff = int((now - SUPERSEDED_GRACE_SECONDS) * 1_000_000)
    removed = 0
    ordered = sorted(versions, key=lambda p: p.name)
    for older, newer in itertools.pairwise(ordered):
        superseded_at = version_micros(newer)
        if superseded_at is not None and superseded_at < cutoff:
            older.unlink(missing_ok=True)
            removed += 1
    return removed


def sweep_temp_files(root: LakePath, *, min_age_seconds: float = 3600.0) -> int:
    """Delete temporary files left by killed writers under `root`; return how many.

    Only files older than `min_age_seconds` are removed, so a writer that is still running is safe.
    A blob lake has none: a killed upload leaves uncommitted blocks, which no listing shows.
    """
    if isinstance(root, BlobPath):
        return 0
    root = Path(root)
    if not root.is_dir():
        return 0
    cutoff = time.time() - min_age_seconds
    removed = 0
    for tmp in root.rglob(f".*{TEMP_SUFFIX}"):
        try:
            if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
