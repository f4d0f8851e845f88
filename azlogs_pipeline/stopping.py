"""Ctrl-C and SIGTERM for a command that runs steps in worker processes (`azlogs run`, `make demo`).

The first signal asks to stop: nothing new starts and the workers are asked to end their step
safely (see pool.py). A second one kills the workers and exits at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType, TracebackType
from typing import Any, NoReturn

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_REAP_SECONDS = 1.0
"""How long a second signal waits for the killed workers to be gone (a process killed while it
writes or frees a large heap takes a moment to die), so that none outlives the exit."""


def exit_now(code: int) -> NoReturn:
    """Exit without the interpreter's finalization, which takes seconds once Dagster, Arrow and
    the Azure SDKs are loaded (far more on a busy machine); for when all work is done or stopped."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class StopRequest:
    """Installed as a context manager on the main thread; workers register with it while they run."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.signum: int | None = None
        self._children: set[subprocess.Popen[bytes]] = set()
        self._previous: dict[int, Any] = {}

    @property
    def exit_code(self) -> int:
        """130 after SIGINT, 143 after SIGTERM (the shell's 128 + signal number)."""
        return 128 + (self.signum or 0)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    def exit_now(self) -> NoReturn:
        exit_now(self.exit_code)

    def register(self, process: subprocess.Popen[bytes]) -> None:
        self._children.add(process)

    def unregister(self, process: subprocess.Popen[bytes]) -> None:
        self._children.discard(process)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            self.requested.set()
            return
        children = list(self._children)
        for child in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)
        _reap(children, time.monotonic() + _REAP_SECONDS)
        os._exit(self.exit_code)

    def __enter__(self) -> StopRequest:
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _reap(children: list[subprocess.Popen[bytes]], deadline: float) -> None:
    """Wait until the killed children have exited (or the deadline passes); never raises."""
    waiting = {child.pid for child in children}
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # already reaped
                done = pid
            if done:
                waiting.discard(pid)
        if waiting:
            time.sleep(0.01)
