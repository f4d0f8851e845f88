"""`azlogs sql --schema [VIEW]` and the session's `.schema`: each view's columns, their types and
what they mean (`desk.columns`), read from the catalog itself so they are what a query sees."""

from __future__ import annotations

from typing import TextIO

import duckdb

from azlogs_pipeline.desk.columns import meaning
from azlogs_pipeline.summarize.report import text_table

_TYPE_WIDTH = 32
"""Nested types (STRUCT lists) are cut to this width: the meaning stays readable beside them;
DESCRIBE VIEW shows them whole."""


def _short(kind: str) -> str:
    return kind if len(kind) <= _TYPE_WIDTH else kind[: _TYPE_WIDTH - 3] + "..."


class UnknownView(ValueError):
    """`--schema VIEW` names no view of the catalog; the message lists them."""


def view_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """View name -> its (column, type), in order, for every view of the catalog."""
    rows = con.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() AS c "
        "JOIN duckdb_views() AS v ON v.view_name = c.table_name "
        "AND v.database_name = c.database_name AND v.schema_name = c.schema_name "
        "WHERE NOT v.internal AND NOT v.temporary ORDER BY c.table_name, c.column_index"
    ).fetchall()
    views: dict[str, list[tuple[str, str]]] = {}
    for view, column, kind in rows:
        views.setdefault(str(view), []).append((str(column), str(kind)))
    return views


def describe(con: duckdb.DuckDBPyConnection, view: str | None, out: TextIO) -> None:
    """Print the columns of `view` (every view when None) with their types and meanings."""
    views = view_columns(con)
    if view is not None and view not in views:
        raise UnknownView(f"no view named {view!r} in the catalog. Views: {', '.join(views)}")
    for number, name in enumerate([view] if view else list(views)):
        rows = [(c, _short(t), meaning(name, c)) for c, t in views[name]]
        print(("\n" if number else "") + name, file=out)
        for line in text_table(["column", "type", "meaning"], rows):
            print("  " + line.rstrip(), file=out)
