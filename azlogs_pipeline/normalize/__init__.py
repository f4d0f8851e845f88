"""Raw lake -> normalized tables, one event-time hour at a time (DuckDB SQL, one file per table)."""

from azlogs_pipeline.normalize.hour import HourResult, build_hour, table_schema
from azlogs_pipeline.normalize.tables import TABLE_NAMES, TABLES, TableSpec, table_spec

__all__ = [
    "TABLES",
    "TABLE_NAMES",
    "HourResult",
    "TableSpec",
    "build_hour",
    "table_schema",
    "table_spec",
]
