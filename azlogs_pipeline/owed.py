"""What `azlogs run` still owes after its builds: the security reports of the days it built and
one alert delivery pass.

They are written down before they start and crossed off as they succeed, so a run stopped by a
signal, killed (`kill -9`, an OOM kill) or failing leaves them to the next `azlogs run`, which
does them whether or not it builds anything itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from azlogs_pipeline.lake.parquet import write_bytes_atomic
from azlogs_pipeline.lake.paths import owed_reports_file


@dataclass(frozen=True)
class Owed:
    days: tuple[str, ...] = ()
    """UTC days (`YYYY-MM-DD`) whose security report is still to write, oldest first."""
    alerts: bool = False
    """Whether an alert delivery pass is still to run."""


def read_owed(data_dir: Path) -> Owed:
    """What earlier runs left undone (nothing when the file is missing or unreadable)."""
    try:
        state = json.loads(owed_reports_file(data_dir).read_text())
        return Owed(tuple(sorted(set(state["days"]))), bool(state["alerts"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Owed()


def write_owed(data_dir: Path, owed: Owed) -> None:
    """Replace the record atomically (a reader sees the old one or the new one)."""
    path = owed_reports_file(data_dir)
    if not owed.days and not owed.alerts:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, json.dumps({"days": list(owed.days), "alerts": owed.alerts}).encode())


def add_owed(data_dir: Path, days: Iterable[str], alerts: bool) -> Owed:
    """Add to what is owed; returns everything owed now."""
    before = read_owed(data_dir)
    owed = Owed(tuple(sorted({*before.days, *days})), before.alerts or alerts)
    write_owed(data_dir, owed)
    return owed


def settle(data_dir: Path, days_done: Iterable[str], alerts_done: bool) -> Owed:
    """Cross off what succeeded; returns what is still owed."""
    before = read_owed(data_dir)
    done = set(days_done)
    owed = Owed(tuple(d for d in before.days if d not in done), before.alerts and not alerts_done)
    write_owed(data_dir, owed)
    return owed
