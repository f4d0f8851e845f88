"""`azlogs sql` with no statement: an interactive read-only session on the catalog.

prompt_toolkit gives the line editing, the history (kept across sessions), multi-line statements
(Enter runs the text once it ends with `;`) and completion of view and column names; DuckDB
renders results as tables that fit the terminal. Every statement goes through the same
read-only check as `azlogs sql "..."`, on the same locked session.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import duckdb
from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.completion import WordCompleter
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from azlogs_pipeline.desk import FORMATS
from azlogs_pipeline.desk.results import QueryFailed, print_rows, run_script
from azlogs_pipeline.lake.read_only import ReadOnlyError, read_only_statements

HELP = """\
End a statement with ; to run it (Enter on an unfinished one starts a new line).
  .tables            the views of the catalog
  .schema [VIEW]     columns of every view (or one) and what they mean; DESCRIBE VIEW works too
  .queries           the ready queries (run them with `azlogs query NAME`, SQL in docs/queries.md)
  .mode FORMAT       print results as table (default), csv or json
  .help              this text
  .quit, .exit       leave (Ctrl-D too; Ctrl-C drops the statement being typed)
Read-only: statements that write files or reach outside the catalog are refused."""


def _statement_complete(text: str) -> bool:
    stripped = text.strip()
    return not stripped or stripped.startswith(".") or stripped.endswith(";")


def _names(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT table_name FROM duckdb_columns() WHERE NOT internal "
        "UNION SELECT DISTINCT column_name FROM duckdb_columns() WHERE NOT internal"
    ).fetchall()
    return sorted(str(name) for (name,) in rows)


def views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The catalog's views, by name."""
    rows = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary "
        "ORDER BY view_name"
    ).fetchall()
    return [str(name) for (name,) in rows]


class Shell:
    """One interactive session: reads statements and dot commands until `.quit` or end of input."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        history: Path | None,
        describe: Callable[[duckdb.DuckDBPyConnection, str | None, TextIO], None],
        out: TextIO = sys.stdout,
    ) -> None:
        self.con = con
        self.describe = describe
        self.out = out
        self.format = "table"
        store: History = FileHistory(str(history)) if history else InMemoryHistory()
        self.session: PromptSession[str] = PromptSession(
            history=store,
            multiline=Condition(lambda: not _statement_complete(get_app().current_buffer.text)),
            completer=WordCompleter(_names(con), ignore_case=True),
            complete_while_typing=False,
        )

    def run(self) -> int:
        print(
            "azlogs sql: read-only session on the catalog, in UTC. .help for help.", file=self.out
        )
        while True:
            try:
                text = self.session.prompt("azlogs> ", prompt_continuation="   ...> ").strip()
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            if text.startswith("."):
                if not self.command(text):
                    return 0
            elif text:
                self.statement(text)

    def statement(self, sql: str) -> None:
        try:
            if self.format == "table":
                self.show(sql)
            else:
                run_script(self.con, sql, self.format, self.out)
        except (ReadOnlyError, QueryFailed) as exc:
            print(f"Error: {exc}", file=self.out)
        except KeyboardInterrupt:
            print("interrupted", file=self.out)

    def show(self, sql: str) -> None:
        """Run `sql` and draw each result as DuckDB's table, cut to the terminal's width."""
        width = shutil.get_terminal_size().columns
        try:
            for statement in read_only_statements(self.con, sql):
                relation = self.con.sql(statement.query)
                if relation is not None:
                    self.out.flush()
                    relation.show(max_width=width)
        except duckdb.Error as exc:
            raise QueryFailed(str(exc)) from None

    def command(self, text: str) -> bool:
        """Run a dot command; False when it ends the session."""
        name, _, rest = text.partition(" ")
        argument = rest.strip().rstrip(";") or None
        if name in (".quit", ".exit", ".q"):
            return False
        if name == ".tables":
            print("  ".join(views(self.con)), file=self.out)
        elif name == ".schema":
            self.describe(self.con, argument, self.out)
        elif name == ".queries":
            from azlogs_pipeline.queries import ready_queries

            rows = [(q.name, q.title) for q in ready_queries()]
            print_rows(["name", "answers"], rows, "table", self.out)
        elif name == ".mode" and argument in FORMATS:
            self.format = argument
        elif name == ".help":
            print(HELP, file=self.out)
        else:
            print(f"unknown command {text!r}: .help lists the commands", file=self.out)
        return True
