"""Who a process is, in a form another process can check later: alive, dead, or not ours to judge.

A pid alone is not enough: pids are reused. The identity adds the process's start time, the boot
id (a reboot ends every process) and the pid namespace (a container on the same host name has pids
of its own), so a pid now held by an unrelated process is recognized as a dead owner. Only a
process on this host, in this pid namespace, can be judged; anything else is `None` (unknown).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote

import psutil

# psutil derives a start time from the boot time and the kernel's tick count; both are stable to
# well under a second, and a pid is never reused within a second of its first owner's start.
_START_TOLERANCE_SECONDS = 1.0


@dataclass(frozen=True)
class ProcessIdentity:
    host: str
    pid: int
    started: float
    boot_id: str
    pid_namespace: str

    def fields(self) -> dict[str, str]:
        """Its parts as text (see :func:`encode_fields`)."""
        return {
            "host": self.host,
            "pid": str(self.pid),
            "start": f"{self.started:.3f}",
            "boot": self.boot_id,
            "ns": self.pid_namespace,
        }

    @classmethod
    def from_fields(cls, values: dict[str, str]) -> ProcessIdentity:
        """The inverse of :meth:`fields`; KeyError or ValueError when a part is missing or bad."""
        return cls(
            host=values["host"],
            pid=int(values["pid"]),
            started=float(values["start"]),
            boot_id=values["boot"],
            pid_namespace=values["ns"],
        )

    def encode(self) -> str:
        return encode_fields(self.fields())

    @classmethod
    def decode(cls, text: str) -> ProcessIdentity | None:
        try:
            return cls.from_fields(decode_fields(text))
        except (KeyError, ValueError):
            return None

    def alive(self) -> bool | None:
        """True or False for a process of this host and pid namespace; None when it cannot tell."""
        here = current_process()
        if self.host != here.host or self.pid_namespace != here.pid_namespace:
            return None
        if self.boot_id != here.boot_id:
            return False
        try:
            process = psutil.Process(self.pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return False
            started = process.create_time()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.AccessDenied:
            return True
        return abs(started - self.started) <= _START_TOLERANCE_SECONDS


def encode_fields(values: dict[str, str]) -> str:
    """`k=v;k=v` with every value percent-encoded: ASCII, fit for blob metadata and run tags."""
    return ";".join(f"{k}={quote(v, safe='')}" for k, v in values.items())


def decode_fields(text: str) -> dict[str, str]:
    """The inverse of :func:`encode_fields`; ValueError when `text` is not of that form."""
    values = {}
    for item in text.split(";"):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"not a key=value field: {item!r}")
        values[key] = unquote(value)
    return values


def current_process() -> ProcessIdentity:
    """This process (computed once per pid, so a forked child gets its own)."""
    return _identity(os.getpid())


@lru_cache(maxsize=4)
def _identity(pid: int) -> ProcessIdentity:
    return ProcessIdentity(
        host=socket.gethostname(),
        pid=pid,
        started=psutil.Process(pid).create_time(),
        boot_id=_boot_id(),
        pid_namespace=_pid_namespace(),
    )


def _boot_id() -> str:
    path = Path("/proc/sys/kernel/random/boot_id")
    if path.exists():
        return path.read_text().strip()
    return f"{psutil.boot_time():.0f}"


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
