"""Quick looks at what the raw lake holds (the demo's report; the catalog comes with the tables)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azlogs_pipeline.lake.paths import PARQUET_SUFFIX, deadletter_root, raw_root
from azlogs_pipeline.lake.storage import LakePath, lake_connect
from azlogs_pipeline.sql_files import read_sql


def _query(name: str, parameter: str, root: LakePath) -> list[tuple[Any, ...]]:
    if not any(root.rglob(f"*{PARQUET_SUFFIX}")):
        return []
    sql = read_sql("azlogs_pipeline.lake", f"{name}.sql")
    with lake_connect() as con:
        return con.execute(sql, {parameter: str(root / "**" / f"*{PARQUET_SUFFIX}")}).fetchall()


def raw_records_per_category(data_dir: Path) -> list[tuple[Any, ...]]:
    """(category, records, distinct records, repaired, first event, last event) per category."""
    return _query("raw_records_per_category", "raw_glob", raw_root(data_dir))


def deadletters_per_reason(data_dir: Path) -> list[tuple[Any, ...]]:
    """(reason, events, bytes) per dead-letter reason."""
    return _query("deadletters_per_reason", "deadletter_glob", deadletter_root(data_dir))
