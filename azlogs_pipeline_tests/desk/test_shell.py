"""`azlogs sql` with no statement, driven through a pseudo-terminal as an analyst types: a query, a
multi-line query, `.tables`, `.schema`, a refused write, the history, exit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

from azlogs_pipeline.lake.paths import raw_root
from azlogs_pipeline_tests.desk.conftest import SECRET

pytestmark = pytest.mark.integration  # the shell as its own process, on a terminal

PROMPT = "azlogs>"  # prompt_toolkit draws the space as a cursor move


def spawn(data_dir: Path, history: Path) -> pexpect.spawn:
    env = {
        **os.environ,
        "AZLOGS_DATA_DIR": str(data_dir),
        "AZLOGS_SQL_HISTORY": str(history),
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",  # pexpect answers no cursor-position requests
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "azlogs_pipeline.cli", "sql"],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 100),
    )
    child.expect_exact("read-only session")
    child.expect_exact(PROMPT)
    return child


def send(child: pexpect.spawn, line: str) -> None:
    child.send(line + "\r")


def test_an_interactive_session(data_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "history"
    child = spawn(data_dir, history)
    send(child, "SELECT 'answer-' || count(*) AS marker FROM raw_records;")
    child.expect_exact("answer-2")
    child.expect_exact(PROMPT)

    send(child, "SELECT category,")  # no ';': Enter continues the statement
    child.expect_exact("...>")
    send(child, "       'rows-' || count(*) AS n")
    child.expect_exact("...>")
    send(child, "FROM raw_records GROUP BY ALL;")
    child.expect(r"AuditLogs\s*│\s*rows-2")
    child.expect_exact(PROMPT)

    send(child, ".tables")
    child.expect(r"deadletters\s.*\sraw_records\s")
    child.expect_exact(PROMPT)
    send(child, ".schema deadletters")
    child.expect(r"body\s+BLOB\s+the event's original bytes")
    child.expect_exact(PROMPT)
    send(child, "DESCRIBE raw_records;")
    child.expect_exact("record_index")
    child.expect_exact(PROMPT)

    fake = raw_root(data_dir) / "category=AuditLogs" / "date=2026-11-20" / "hour=10" / "x.parquet"
    send(child, f"COPY (FROM raw_records LIMIT 1) TO '{fake}';")
    child.expect_exact("COPY statements are refused")
    child.expect_exact(PROMPT)
    send(child, f"SELECT content FROM read_text('{data_dir.parent / 'azlogs.env'}');")
    child.expect_exact("Permission Error")
    child.expect_exact(PROMPT)
    assert SECRET not in (child.before or "")
    send(child, "SELECT 'still-' || count(*) AS n FROM raw_records;")
    child.expect_exact("still-2")
    child.expect_exact(PROMPT)

    send(child, ".quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert not fake.exists()
    assert "SELECT 'answer-' || count(*) AS marker FROM raw_records;" in history.read_text()


def test_history_and_end_of_input(data_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.write_text("\n# 2026-11-20 10:00:00\n+SELECT 'from-history-' || 41 + 1 AS h;\n")
    child = spawn(data_dir, history)
    child.send("\x1b[A")  # the up arrow brings back the last statement
    child.send("\r")
    child.expect_exact("from-history-42")
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
