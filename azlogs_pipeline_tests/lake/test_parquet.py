"""Atomic Parquet writes: no temp files left, no partial final file after a kill."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from azlogs_pipeline.lake import parquet
from azlogs_pipeline.lake.parquet import sweep_temp_files, write_parquet_atomic


def _table(rows: int, tag: str = "new") -> pa.Table:
    return pa.table({"n": pa.array(range(rows), pa.int64()), "tag": pa.array([tag] * rows)})


def test_write_is_readable_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a/b/file.parquet"
    size = write_parquet_atomic(_table(10), target)
    assert size == target.stat().st_size
    assert pq.read_table(target).equals(_table(10))
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.parquet"]


def test_overwrite_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "file.parquet"
    write_parquet_atomic(_table(10, "old"), target)
    write_parquet_atomic(_table(3, "new"), target)
    assert pq.read_table(target).equals(_table(3, "new"))
    assert [p.name for p in tmp_path.iterdir()] == ["file.parquet"]


def test_failed_write_removes_temp_and_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file.parquet"
    write_parquet_atomic(_table(5, "old"), target)

    def boom(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(parquet, "fsync_file", boom)
    with pytest.raises(OSError, match="disk full"):
        write_parquet_atomic(_table(5, "new"), target)
    assert pq.read_table(target).equals(_table(5, "old"))
    assert [p.name for p in tmp_path.iterdir()] == ["file.parquet"]


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import pyarrow as pa
    import pyarrow.parquet as pq
    from azlogs_pipeline.lake import parquet

    stage = sys.argv[2]
    original = pq.write_table

    def write_then_die(table, where, **kwargs):
        if stage == "mid-write":
            with open(where, "wb") as handle:
                handle.write(b"PAR1 half a file")
            os.kill(os.getpid(), signal.SIGKILL)
        original(table, where, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    parquet.pq.write_table = write_then_die
    table = pa.table({"n": pa.array(range(1000), pa.int64())})
    parquet.write_parquet_atomic(table, Path(sys.argv[1]))
    """
)


@pytest.mark.parametrize("stage", ["mid-write", "before-rename"])
@pytest.mark.parametrize("existing", [False, True])
def test_killed_write_leaves_no_partial_final_file(
    tmp_path: Path, stage: str, existing: bool
) -> None:
    target = tmp_path / "file.parquet"
    if existing:
        write_parquet_atomic(_table(5, "old"), target)
    result = subprocess.run(
        [sys.executable, "-c", KILLER, str(target), stage], capture_output=True, timeout=60
    )
    assert result.returncode == -9, result.stderr.decode()
    if existing:
        assert pq.read_table(target).equals(_table(5, "old"))
    else:
        assert not target.exists()
    leftovers = [p for p in tmp_path.iterdir() if p.name != "file.parquet"]
    assert len(leftovers) == 1
    assert leftovers[0].name.startswith(".file.parquet.") and leftovers[0].name.endswith(".tmp")
    assert list(tmp_path.glob("*.parquet")) == ([target] if existing else [])


def test_sweep_removes_only_old_temp_files(tmp_path: Path) -> None:
    old = tmp_path / "x/.a.parquet.1.abc.tmp"
    fresh = tmp_path / "x/.b.parquet.1.def.tmp"
    keep = tmp_path / "x/a.parquet"
    for path in (old, fresh, keep):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    an_hour_ago = time.time() - 7200
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert sweep_temp_files(tmp_path, min_age_seconds=3600) == 1
    assert not old.exists() and fresh.exists() and keep.exists()
    assert sweep_temp_files(tmp_path / "missing") == 0
