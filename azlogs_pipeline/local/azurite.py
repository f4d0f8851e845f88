"""Azurite, Microsoft's Azure Storage emulator, installed from npm with the project's lock file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from azlogs_pipeline.config import load_local_tool
from azlogs_pipeline.local.processes import ServiceError, spawn, wait_for_port

# Azurite's documented development account; public, the same on every machine.
DEV_ACCOUNT_NAME = "devstoreaccount1"
DEV_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def azurite_binary() -> str:
    """The azurite-blob executable: $AZLOGS_AZURITE_BIN, the project's node_modules, or PATH."""
    candidates = [
        load_local_tool("AZLOGS_AZURITE_BIN"),
        str(PROJECT_ROOT / "node_modules" / ".bin" / "azurite-blob"),
        shutil.which("azurite-blob"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise ServiceError(
        "Azurite is not installed. Run `make setup` (it runs `npm ci` with the project's lock "
        "file), or set AZLOGS_AZURITE_BIN to an azurite-blob executable."
    )


def blob_endpoint(host: str, port: int) -> str:
    return f"http://{host}:{port}/{DEV_ACCOUNT_NAME}"


def connection_string(host: str, port: int) -> str:
    """A storage connection string for the Azurite development account."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT_NAME};"
        f"AccountKey={DEV_ACCOUNT_KEY};BlobEndpoint={blob_endpoint(host, port)};"
    )


def start_azurite(
    directory: Path, host: str = "127.0.0.1", port: int = 10000, timeout: float = 60.0
) -> subprocess.Popen[bytes]:
    """Start azurite-blob in the background with its data under ``directory``; wait until it answers."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "azurite.log"
    command = [
        azurite_binary(),
        "--blobHost",
        host,
        "--blobPort",
        str(port),
        "--location",
        str(directory),
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
    ]
    process = spawn(command, log, cwd=directory)
    wait_for_port(host, port, process, "Azurite", log, timeout)
    return process
