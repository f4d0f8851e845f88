"""A small catalog for the desk's tests: two landed audit records, one dead letter, and a secret
file next to the lake that no session may read."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import patch

import orjson
import pytest

from azlogs_pipeline.catalog import ensure_catalog
from azlogs_pipeline.cli import main
from azlogs_pipeline.ingest.batch import RawBatchWriter
from azlogs_pipeline.summarize.build import catalog_views, summary_schemas

SECRET = "AccountKey=c2VjcmV0LWtleS1uZXZlci1zaG93bg=="


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    writer = RawBatchWriter(tmp_path, "adlogs", "0")
    for n in range(2):
        record = {"category": "AuditLogs", "time": "2026-11-20T10:00:00Z", "n": n}
        writer.add_event(
            orjson.dumps({"records": [record]}),
            sequence_number=n,
            offset=str(n),
            enqueued_time=datetime(2026, 11, 20, 10, tzinfo=UTC),
        )
    writer.add_event(b"{oops", sequence_number=2, offset="x", enqueued_time=datetime.now(UTC))
    writer.flush()
    ensure_catalog(tmp_path, {}, summary_schemas(), catalog_views())  # no table views
    (tmp_path.parent / "azlogs.env").write_text(f"export KEY={SECRET}\n")
    return tmp_path


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def azlogs(data_dir: Path, *args: str) -> Result:
    """`azlogs ARGS` on `data_dir`, in this process (the console script's own `main`)."""
    out, err = io.StringIO(), io.StringIO()
    with (
        patch.dict(os.environ, {"AZLOGS_DATA_DIR": str(data_dir)}),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        code = main(list(args))
    return Result(code, out.getvalue(), err.getvalue())


def azlogs_process(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    """`azlogs ARGS` as its own process, the way a shell runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", *args],
        capture_output=True, text=True, timeout=60, input=stdin,
        env={**os.environ, "AZLOGS_DATA_DIR": str(data_dir)},
    )  # fmt: skip
    return Result(done.returncode, done.stdout, done.stderr)
