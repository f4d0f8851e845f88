"""`make setup` installs the DuckDB CLI (the `duckdb-cli` package, DuckDB's own version) next to
the project's Python, and it opens the catalog the pipeline writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from azlogs_pipeline.lake.paths import catalog_path

DUCKDB_CLI = Path(sys.executable).parent / "duckdb"


def test_the_duckdb_command_reads_the_catalog(data_dir: Path) -> None:
    assert DUCKDB_CLI.is_file(), f"{DUCKDB_CLI} is missing: run make setup (duckdb-cli)"
    done = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", str(catalog_path(data_dir)), "-csv", "-c",
         "SELECT count(*) AS n, version() AS v FROM raw_records"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["n,v", f"2,v{duckdb.__version__}"]
