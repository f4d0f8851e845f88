"""Worker processes of `azlogs run`: at most N at once, each a step in its own process group.

A worker writes one JSON object per line on stdout (progress and results; see worker.py); its
stderr goes to ours. A worker is asked to stop by closing its stdin (the same happens when this
process dies): it ends or abandons its step safely and exits. One that is still alive
``grace_seconds`` later is killed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from azlogs_pipeline.stopping import StopRequest

GRACE_SECONDS = 6.0


@dataclass(frozen=True)
class Job:
    name: str
    argv: list[str]
    env: dict[str, str] | None = None


@dataclass
class Outcome:
    """What became of one job: its messages, and how its process ended (None: never started)."""

    name: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None
    killed: bool = False

    @property
    def started(self) -> bool:
        return self.returncode is not None


Listener = Callable[[str, dict[str, Any]], None]


class _Worker:
    def __init__(self, job: Job, lines: queue.Queue[tuple[str, bytes | None]]) -> None:
        self.job = job
        self.outcome = Outcome(job.name)
        self.process: subprocess.Popen[bytes] = subprocess.Popen(
            job.argv,
            env=job.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.open_streams = 2
        assert self.process.stdout is not None and self.process.stderr is not None
        for stream, kind in ((self.process.stdout, "out"), (self.process.stderr, "err")):
            threading.Thread(
                target=_read_lines, args=(stream, f"{kind}:{job.name}", lines), daemon=True
            ).start()

    def ask_to_stop(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def kill(self) -> None:
        self.outcome.killed = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _read_lines(stream: IO[bytes], tag: str, lines: queue.Queue[tuple[str, bytes | None]]) -> None:
    for line in iter(stream.readline, b""):
        lines.put((tag, line))
    lines.put((tag, None))


def run_jobs(
    jobs: Iterable[Job],
    parallelism: int,
    listener: Listener | None = None,
    stop: StopRequest | None = None,
    grace_seconds: float = GRACE_SECONDS,
) -> list[Outcome]:
    """Run the jobs, at most ``parallelism`` at once, in order of start; after a stop request,
    start nothing new. Returns one outcome per job, in the order given."""
    order = list(jobs)
    pending = deque(order)
    lines: queue.Queue[tuple[str, bytes | None]] = queue.Queue()
    running: dict[str, _Worker] = {}
    outcomes = {job.name: Outcome(job.name) for job in order}
    kill_at: float | None = None
    while pending or running:
        stopping = stop is not None and stop.requested.is_set()
        if stopping and kill_at is None:
            kill_at = time.monotonic() + grace_seconds
            for worker in running.values():
                worker.ask_to_stop()
        while not stopping and pending and len(running) < max(1, parallelism):
            job = pending.popleft()
            worker = _Worker(job, lines)
            running[job.name] = worker
            if stop is not None:
                stop.register(worker.process)
        if stopping:
            pending.clear()
        if kill_at is not None and time.monotonic() >= kill_at:
            for worker in running.values():
                if worker.process.poll() is None and not worker.outcome.killed:
                    worker.kill()
        try:
            tag, line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        kind, _, name = tag.partition(":")
        worker = running[name]
        if line is None:
            worker.open_streams -= 1
            if worker.open_streams == 0:
                worker.outcome.returncode = worker.process.wait()
                if stop is not None:
                    stop.unregister(worker.process)
                outcomes[name] = worker.outcome
                del running[name]
        elif kind == "err":
            sys.stderr.write(line.decode(errors="replace"))
            sys.stderr.flush()
        else:
            _take_message(worker.outcome, line, listener)
    return [outcomes[job.name] for job in order]


def _take_message(outcome: Outcome, line: bytes, listener: Listener | None) -> None:
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError:
        message = None
    if not isinstance(message, dict):
        sys.stderr.write(line.decode(errors="replace"))
        return
    if "progress" not in message:
        outcome.messages.append(message)
    if listener is not None:
        listener(outcome.name, message)
