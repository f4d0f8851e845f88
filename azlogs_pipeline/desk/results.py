"""Run analysts' SQL on a read-only session and print the results as a table, CSV or JSON."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

import duckdb

from azlogs_pipeline.lake.read_only import read_only_statements


class QueryFailed(Exception):
    """DuckDB refused or failed a statement; the message is DuckDB's, prefixed with what ran."""


def run_script(con: duckdb.DuckDBPyConnection, sql: str, fmt: str, out: TextIO) -> int:
    """Run every statement of `sql` (refusing any that is not for reading before the first runs)
    and print each result; returns the number of results printed."""
    try:
        statements = read_only_statements(con, sql)
    except duckdb.Error as exc:
        raise QueryFailed(f"the SQL does not parse: {exc}") from None
    printed = 0
    for statement in statements:
        try:
            relation = con.sql(statement.query)
            if relation is None:
                continue
            columns, rows = relation.columns, relation.fetchall()
        except duckdb.Error as exc:
            raise QueryFailed(f"the query failed: {exc}") from None
        if printed and fmt == "table":
            print(file=out)
        print_rows(columns, rows, fmt, out)
        printed += 1
    return printed


def run_bound(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object], fmt: str, out: TextIO
) -> None:
    """Run one statement with its parameters bound and print its result."""
    read_only_statements(con, sql)
    try:
        cursor = con.execute(sql, dict(params))
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise QueryFailed(f"the query failed: {exc}") from None
    print_rows(columns, rows, fmt, out)


def print_rows(
    columns: Sequence[str],
    rows: Sequence[tuple[object, ...]],
    fmt: str,
    out: TextIO | None = None,
) -> None:
    out = out or sys.stdout
    if fmt == "json":
        import orjson

        for row in rows:
            line = orjson.dumps(dict(zip(columns, row, strict=True)), default=str).decode()
            print(line, file=out)
    elif fmt == "csv":
        import csv

        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        from azlogs_pipeline.summarize.report import text_table

        for line in text_table(columns, rows, rule=True):
            print(line, file=out)
        print(f"({len(rows)} rows)", file=out)
