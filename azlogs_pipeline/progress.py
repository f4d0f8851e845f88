"""What `azlogs run` shows while it works: live bars on a terminal (rich), plain lines elsewhere.

On a terminal: one bar per partition (events drained of the drain's target, records, rate, ETA)
and one for the builds (hours done of N, then days). When stdout is not a terminal (CI, logs,
cron) only the plain, stable lines are printed, the same as the live display prints above its bars.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn


class PlainDisplay:
    """Lines only, printed as they come."""

    def line(self, text: str) -> None:
        print(text, flush=True)

    def listen(self, _name: str, _message: dict[str, Any]) -> None:
        """Progress is for terminals; results are printed as lines by the caller."""

    def builds(self, _hours: int, _days: int) -> None:
        """Nothing to set up without a terminal."""


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA -"
    minutes, secs = divmod(round(seconds), 60)
    return f"ETA {minutes}:{secs:02d}"


class LiveDisplay(PlainDisplay):
    """Bars that update in place; lines are printed above them."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def line(self, text: str) -> None:
        self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def _task(self, name: str, total: float | None = None, detail: str = "waiting") -> TaskID:
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(name, total=total, detail=detail)
        return self.tasks[name]

    def builds(self, hours: int, days: int) -> None:
        self._task("hours", total=hours, detail=f"0 of {hours} hours built")
        if days:
            self._task("days", total=days, detail=f"0 of {days} days of daily summaries")

    def listen(self, name: str, message: dict[str, Any]) -> None:
        if "progress" in message:
            p = message["progress"]
            rate = p["events"] / p["elapsed_seconds"] if p["elapsed_seconds"] > 0 else 0.0
            detail = (
                f"{p['events']:,} of {p['target_events']:,} events, {p['records']:,} records, "
                f"{rate:,.0f} events/s, {_eta(p['eta_seconds'])}"
            )
            task = self._task(name)
            self.progress.update(
                task, completed=p["events"], total=max(1, p["target_events"]), detail=detail
            )
        elif "drain" in message:
            run = message["drain"]
            meta = run["metadata"]
            state = meta.get("status", "drained") if run["success"] else "stopped"
            if not run["success"] and not run["interrupted"]:
                state = "FAILED"
            task = self._task(name)
            total = self.progress.tasks[task].total or 1
            self.progress.update(
                task,
                completed=total,
                detail=f"{state}: {meta.get('events', 0):,} events, "
                f"{meta.get('records', 0):,} records",
            )
            self.progress.refresh()
        elif "build" in message:
            kind = message["build"].get("kind", "hours")
            if kind == "summaries":
                return  # hours of look-back summaries: not in the bars' totals
            name = "days" if kind == "days" else "hours"
            task = self._task(name)
            self.progress.advance(task, message["build"].get("partitions", 1))
            done = int(self.progress.tasks[task].completed)
            total = int(self.progress.tasks[task].total or 0)
            what = "hours built" if name == "hours" else "days of daily summaries"
            self.progress.update(task, detail=f"{done} of {total} {what}")
            self.progress.refresh()


Display = PlainDisplay


@contextmanager
def run_display(console: Console | None = None) -> Iterator[Display]:
    """Live bars when stdout is a terminal, plain lines otherwise."""
    console = console or Console(file=sys.stdout)
    if not console.is_terminal:
        yield PlainDisplay()
        return
    progress = Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(bar_width=30),
        TextColumn("{task.fields[detail]}"),
        console=console,
        transient=True,
        refresh_per_second=4,
    )
    with progress:
        yield LiveDisplay(progress)
