"""Atomic Parquet writes: a reader sees either the old file, the new file, or no file; never half.

The file is written under a temporary name in the target directory (same filesystem, so the rename
is atomic), flushed and fsynced, renamed over the final name with `os.replace`, and the directory is
fsynced so the rename itself survives a power loss. Temporary names start with a dot and end in
`.tmp`, so globs over `*.parquet` never see them.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TEMP_SUFFIX = ".tmp"
DEFAULT_COMPRESSION = "zstd"


def temp_path_for(path: Path) -> Path:
    """A unique temporary sibling of `path` (hidden, `.tmp`)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}")


def fsync_dir(directory: Path) -> None:
    """Make a rename inside `directory` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet_atomic(
    table: pa.Table,
    path: Path,
    *,
    compression: str = DEFAULT_COMPRESSION,
    dictionary_columns: Sequence[str] | bool = True,
    row_group_size: int | None = None,
    sync_directory: bool = True,
    statistics_columns: Sequence[str] | bool = True,
) -> int:
    """Write `table` to `path` atomically and durably; return the file size in bytes.

    ``statistics_columns`` limits min/max statistics to the columns that benefit (none for long
    JSON text, whose statistics cost time and help no filter).

    With ``sync_directory=False`` the caller fsyncs the directory itself, once for many files,
    before it relies on the rename (for example before a checkpoint moves).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    try:
        pq.write_table(
            table,
            tmp,
            compression=compression,
            use_dictionary=list(dictionary_columns)
            if not isinstance(dictionary_columns, bool)
            else dictionary_columns,
            row_group_size=row_group_size,
            write_statistics=list(statistics_columns)
            if not isinstance(statistics_columns, bool)
            else statistics_columns,
        )
        _fsync_file(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_directory:
        fsync_dir(path.parent)
    return size


def sweep_temp_files(root: Path, *, min_age_seconds: float = 3600.0) -> int:
    """Delete temporary files left by killed writers under `root`; return how many.

    Only files older than `min_age_seconds` are removed, so a writer that is still running is safe.
    """
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
