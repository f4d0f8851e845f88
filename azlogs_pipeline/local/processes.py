"""Start, find and stop the background services of the local stack."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from azlogs_pipeline.errors import AzlogsError
from azlogs_pipeline.pids import is_alive


class ServiceError(AzlogsError, RuntimeError):
    """A local service could not be started or did not answer."""


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    host: str, port: int, process: subprocess.Popen[bytes], name: str, log: Path, timeout: float
) -> None:
    """Wait until ``process`` listens on host:port; raise with its log's tail if it dies or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(
                f"{name} exited with code {process.returncode} before it answered on "
                f"{host}:{port}. Its log ({log}) ends with:\n{tail(log)}"
            )
        if port_answers(host, port, timeout=0.2):
            return
        time.sleep(0.05)
    stop_process(process.pid)
    raise ServiceError(
        f"{name} did not answer on {host}:{port} within {timeout:.0f} s. Is the port taken by "
        f"another program? Its log ({log}) ends with:\n{tail(log)}"
    )


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def spawn(command: list[str], log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a detached background process (its own session) writing to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )


def stop_process(pid: int, timeout: float = 10.0) -> bool:
    """SIGTERM the process group of ``pid``, then SIGKILL after ``timeout``; True if it was running."""
    if not is_alive(pid):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return True
