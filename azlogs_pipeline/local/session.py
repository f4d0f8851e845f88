"""Everything a `make ui` or `make demo` session starts, found and stopped as one.

A session marks its own environment (``AZLOGS_SESSION=<kind>:<directory>``) before it starts
anything, so every process it starts inherits the mark: `dagster dev`, the webserver, the daemon,
code servers, runs, `azlogs run` workers, Azurite and the Event Hubs emulator. The mark stays with
a process that was orphaned, so the next session of the same kind and directory finds what a
hard-killed one left behind and stops it.

On Ctrl-C or SIGTERM the session's main code is interrupted (`Interrupted`) and `shutdown` stops
the marked processes: first everything but the stack (the runs end safely while Azurite still
answers), then Azurite and the emulator, each given a few seconds before it is killed. A second
signal kills them all at once. `stack_session` is that lifecycle around a `with` body, for
`make ui` and `make demo` both.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import psutil

from azlogs_pipeline.local import stack

MARK = "AZLOGS_SESSION"
STACK_SERVICES = ("Azurite", "Event Hubs emulator")
RUNS_GRACE_SECONDS = 6.0
STACK_GRACE_SECONDS = 2.0

_ROLES = (
    ("azlogs_pipeline.local.eventhubs", "Event Hubs emulator"),
    ("azurite", "Azurite"),
    ("azlogs_pipeline.worker", "azlogs run worker"),
    ("execute_run", "run"),
    ("execute_step", "run"),
    ("dagster-webserver", "webserver"),
    ("dagster_webserver", "webserver"),
    ("dagster-daemon", "daemon"),
    ("api grpc", "code server"),
    ("code-server", "code server"),
    ("dagster dev", "dagster dev"),
)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM reached the session; unwinds its main code to the shutdown."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def role(process: psutil.Process) -> str:
    """What a marked process is, from its command line."""
    try:
        command = " ".join(process.cmdline())
    except psutil.Error:
        return "process"
    for marker, name in _ROLES:
        if marker in command:
            return name
    return Path(process.name()).name or "process"


def describe(roles: list[str]) -> str:
    """``2 x code server, Azurite, daemon`` for the roles of some processes."""
    counts = Counter(roles)
    return ", ".join(name if n == 1 else f"{n} x {name}" for name, n in sorted(counts.items()))


class Session:
    """One `make ui` / `make demo`: its mark, its leftovers, its signals and its shutdown."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.mark = f"{kind}:{directory.resolve()}"

    def processes(self) -> list[psutil.Process]:
        """The live processes that carry this session's mark (this one excepted)."""
        found = []
        for process in psutil.process_iter():
            if process.pid == os.getpid():
                continue
            with contextlib.suppress(psutil.Error):
                if process.environ().get(MARK) == self.mark and process.status() != "zombie":
                    found.append(process)
        return found

    def stop_leftovers(self) -> None:
        """Stop what an earlier session of this kind and directory left running."""
        leftovers = self.processes()
        if leftovers:
            print(
                f"Found {describe([role(p) for p in leftovers])} left running by an earlier `make {self.kind}` "
                "(killed before it could stop them): stopping them.",
                flush=True,
            )
            self._stop(leftovers, RUNS_GRACE_SECONDS)

    def start(self) -> None:
        """Mark this process (and so all it starts) and turn Ctrl-C / SIGTERM into Interrupted."""
        os.environ[MARK] = self.mark

        def interrupt(signum: int, _frame: FrameType | None) -> None:
            for each in (signal.SIGINT, signal.SIGTERM):
                signal.signal(each, self._kill_all)
            raise Interrupted(signum)

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, interrupt)

    def _kill_all(self, signum: int, _frame: FrameType | None) -> None:
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                process.kill()
        print("\nKilled everything at once (second signal).", file=sys.stderr, flush=True)
        os._exit(128 + signum)

    def shutdown(self) -> None:
        """Stop every marked process, the runs before the stack, and say what was stopped."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._kill_all)
        started = time.monotonic()
        stopped: list[str] = []
        for services in (False, True):
            grace = STACK_GRACE_SECONDS if services else RUNS_GRACE_SECONDS
            for _ in range(2):  # a second look: something may have started meanwhile
                group = [p for p in self.processes() if (role(p) in STACK_SERVICES) == services]
                stopped += self._stop(group, grace)
        if stopped:
            print(f"Stopped {describe(stopped)} in {time.monotonic() - started:.1f} s.", flush=True)

    @staticmethod
    def _stop(processes: list[psutil.Process], grace: float) -> list[str]:
        """Terminate, wait up to ``grace`` seconds, kill what is left; the roles stopped."""
        roles = [role(process) for process in processes]
        for process in processes:
            with contextlib.suppress(psutil.Error):
                process.terminate()
        _, alive = psutil.wait_procs(processes, timeout=grace)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(alive, timeout=2)
        return roles


@dataclass
class Ended:
    """How a `stack_session` ended: `exit_code` is the stop request's (128 + its signal) when
    Ctrl-C or SIGTERM ended it, else None."""

    exit_code: int | None = None


@contextlib.contextmanager
def stack_session(kind: str, directory: Path) -> Iterator[Ended]:
    """A `make <kind>` session over the local stack in `directory`: what an earlier one left
    running is stopped first; a stop request ends the `with` body (its exit code in `Ended`);
    at the end everything the session started is stopped, the stack last."""
    session = Session(kind, directory)
    session.stop_leftovers()
    session.start()
    ended = Ended()
    try:
        yield ended
    except Interrupted as interrupted:
        print(f"\n{interrupted}: stopping everything `make {kind}` started...", flush=True)
        ended.exit_code = interrupted.exit_code
    finally:
        session.shutdown()
        stack.down(directory)
        print("\nStopped the local stack.", flush=True)
