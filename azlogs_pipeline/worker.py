"""One step of `azlogs run` in its own process: `drain KEY` (one partition), `build` (every
partition the lake says needs building, `runner.build_pending`) or `finish [--alerts] DAY...` (the
days' security reports, then one alert delivery pass).

Started by runner.py through pool.py. It writes one JSON object per line to the stdout it was
given: ``{"progress": ...}`` while a drain receives, then ``{"drain": ...}``; or one ``{"build":
...}`` per build run (a range of hours or days); or one ``{"report": ...}`` per day and then
``{"alerts": ...}``. Everything else it prints (Dagster's console
log included) goes to stderr.

Stopping: SIGINT or SIGTERM, or the end of its stdin (the parent asks, or died), interrupts the
Dagster step in progress, which ends safely: a drain lets its in-flight flush finish (files, then
checkpoint), lands nothing more and releases its claim; a build leaves the hour's previous files.
No further build starts.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

import orjson
from dagster import DagsterInstance

from azlogs_pipeline.assets.ingest import PROGRESS_LOGGER
from azlogs_pipeline.config import load_data_dir, load_settings
from azlogs_pipeline.ingest.drain import DrainProgress
from azlogs_pipeline.instance import open_instance
from azlogs_pipeline.runner import (
    ALERTS_FLAG,
    BuildRun,
    as_message,
    build_pending,
    deliver_alerts_run,
    drain_one,
    write_reports_run,
)
from azlogs_pipeline.stopping import exit_now

PROGRESS_EVERY_SECONDS = 0.5


class _Messages:
    """The parent's channel: stdout as it was given, while fd 1 itself now points at stderr."""

    def __init__(self) -> None:
        self._out: IO[bytes] = os.fdopen(os.dup(1), "wb", buffering=0)
        os.dup2(2, 1)
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._out.write(orjson.dumps(message, default=str) + b"\n")


class _ProgressHandler(logging.Handler):
    """Forwards a drain's progress reports, at most every PROGRESS_EVERY_SECONDS."""

    def __init__(self, messages: _Messages) -> None:
        super().__init__(logging.DEBUG)
        self.messages = messages
        self.sent_at = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        progress = getattr(record, "drain_progress", None)
        now = time.monotonic()
        if isinstance(progress, DrainProgress) and now - self.sent_at >= PROGRESS_EVERY_SECONDS:
            self.sent_at = now
            payload = {**asdict(progress), "eta_seconds": progress.eta_seconds}
            self.messages.send({"progress": payload})


def _stop_on_end_of_stdin(stop: threading.Event) -> None:
    """The parent closes our stdin to ask us to stop: interrupt the step in progress once."""

    def watch() -> None:
        while os.read(0, 4096):  # the raw fd: a buffered read would block interpreter shutdown
            pass
        if not stop.is_set():
            stop.set()
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="stop-watch", daemon=True).start()


def _finish(
    instance: DagsterInstance,
    data_dir: Path,
    keys: list[str],
    messages: _Messages,
    stop: threading.Event,
) -> None:
    """The security reports of the days given, then an alert pass if `--alerts` is among them."""
    for day in [key for key in keys if key != ALERTS_FLAG]:
        if stop.is_set():
            return
        (report,) = write_reports_run(instance, data_dir, [day])
        messages.send({"report": asdict(report)})
    if ALERTS_FLAG in keys and not stop.is_set():
        messages.send({"alerts": deliver_alerts_run(instance, data_dir)})


def main(argv: list[str] | None = None) -> int:
    kind, *keys = argv if argv is not None else sys.argv[1:]
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    # Dagster replaces these while a run executes (an interruption of its step) and puts ours back.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    messages = _Messages()
    _stop_on_end_of_stdin(stop)
    # Only a drain needs the Event Hubs and checkpoint settings; a build or report, the data dir.
    settings = load_settings() if kind == "drain" else None
    data_dir = settings.data_dir if settings else load_data_dir()
    with open_instance(data_dir) as instance:
        if settings is not None:
            PROGRESS_LOGGER.addHandler(_ProgressHandler(messages))
            PROGRESS_LOGGER.setLevel(logging.DEBUG)
            for key in keys:
                if stop.is_set():
                    break
                messages.send(as_message(drain_one(instance, settings, key)))
        elif kind == "build":

            def on_run(run: BuildRun) -> bool:
                messages.send(as_message(run))
                return not (stop.is_set() or run.interrupted)

            build_pending(instance, data_dir, on_run)
        elif kind == "finish":
            _finish(instance, data_dir, keys, messages, stop)
        else:
            print(f"unknown step {kind!r}: use drain KEY, build or finish", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    exit_now(main())
