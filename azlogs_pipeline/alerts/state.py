"""Which findings were delivered: a small SQLite file under the data dir, kept across rebuilds,
restarts and backfills. It holds ids, statuses and error kinds, never the webhook URL."""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azlogs_pipeline.lake.paths import alert_state_dir
from azlogs_pipeline.sql_files import read_sql

SQL_PACKAGE = "azlogs_pipeline.alerts"
STATE_FILE = "deliveries.sqlite"
LOCK_FILE = ".delivery.lock"


@dataclass(frozen=True)
class DeliveryCounts:
    """Findings per delivery status (all passes so far)."""

    delivered: int = 0
    digested: int = 0
    pending: int = 0
    oldest_pending: str | None = None
    last_error: str | None = None


def state_path(data_dir: Path) -> Path:
    return alert_state_dir(data_dir) / STATE_FILE


@contextmanager
def delivery_lock(data_dir: Path) -> Iterator[bool]:
    """Held by one delivery pass at a time; yields False (without waiting) when another holds it."""
    directory = alert_state_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class AlertState:
    """The state store of one data dir (open with `open_state`)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self._con = con

    def add(self, findings: Iterable[dict[str, Any]], now: datetime) -> None:
        """Record findings seen for the first time as pending (known ids are left as they are)."""
        rows = [
            {
                "detection_id": f["detection_id"],
                "detection": f["detection"],
                "severity": f["severity"],
                "window_end": _iso(f.get("window_end")),
                "now": _iso(now),
            }
            for f in findings
        ]
        with self._con:
            self._con.executemany(_sql("state_add.sql"), rows)

    def pending(self) -> list[str]:
        """Ids of the findings not delivered yet, oldest first."""
        return [row[0] for row in self._con.execute(_sql("state_pending.sql"))]

    def withdraw(self, ids: Iterable[str]) -> None:
        """Pending findings that are no longer in the detections view."""
        with self._con:
            self._con.executemany(_sql("state_withdraw.sql"), [{"detection_id": i} for i in ids])

    def delivered(self, ids: Iterable[str], status: str, attempts: int, now: datetime) -> None:
        with self._con:
            self._con.executemany(
                _sql("state_delivered.sql"),
                [
                    {"detection_id": i, "status": status, "attempts": attempts, "now": _iso(now)}
                    for i in ids
                ],
            )

    def failed(self, ids: Iterable[str], error: str, attempts: int, now: datetime) -> None:
        with self._con:
            self._con.executemany(
                _sql("state_failed.sql"),
                [
                    {"detection_id": i, "error": error, "attempts": attempts, "now": _iso(now)}
                    for i in ids
                ],
            )

    def counts(self) -> DeliveryCounts:
        row = self._con.execute(_sql("state_counts.sql")).fetchone()
        if row is None:
            return DeliveryCounts()
        return DeliveryCounts(int(row[0]), int(row[1]), int(row[2]), row[3], row[4])


@contextmanager
def open_state(data_dir: Path) -> Iterator[AlertState]:
    """The state store, created on first use."""
    path = state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30)
    try:
        con.execute(_sql("state_schema.sql"))
        yield AlertState(con)
    finally:
        con.close()


def delivery_counts(data_dir: Path) -> DeliveryCounts | None:
    """Findings per delivery status, or None when nothing was ever delivered from this data dir."""
    if not state_path(data_dir).is_file():
        return None
    with open_state(data_dir) as state:
        return state.counts()


def _iso(value: object) -> str | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return None if value is None else str(value)


def _sql(name: str) -> str:
    return read_sql(SQL_PACKAGE, name)
