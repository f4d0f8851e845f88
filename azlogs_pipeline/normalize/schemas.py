"""The columns of every normalized table, for the catalog's views."""

from __future__ import annotations

from functools import cache

import pyarrow as pa

from azlogs_pipeline.normalize.hour import table_schema
from azlogs_pipeline.normalize.tables import TABLE_NAMES


@cache
def table_schemas() -> dict[str, pa.Schema]:
    """Table name -> Arrow schema of its rows (each table's SQL run over zero raw records)."""
    return {name: table_schema(name) for name in TABLE_NAMES}
