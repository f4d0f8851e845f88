"""A small catalog for the desk's tests: two landed audit records, one dead letter, and a secret
file next to the lake that no session may read."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

import pytest

from azlogs_pipeline.catalog import ensure_catalog
from azlogs_pipeline.cli import main
from azlogs_pipeline.summarize.build import catalog_views, summary_schemas
from azlogs_pipeline_tests.normalize.raw_fixtures import land_with_a_dead_letter

SECRET = "AccountKey=c2VjcmV0LWtleS1uZXZlci1zaG93bg=="


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    land_with_a_dead_letter(tmp_path, 2)
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
