"""`azlogs stack up|down|status`: the offline local stack (Event Hubs emulator + Azurite).

``up`` records what it started in ``<dir>/stack.json``; ``down`` stops only those processes.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from azlogs_pipeline.local import azurite
from azlogs_pipeline.local.processes import (
    ServiceError,
    port_answers,
    spawn,
    stop_process,
    wait_for_port,
)
from azlogs_pipeline.pids import is_alive

DEFAULT_DIR = Path(".azlogs-stack")
DEFAULT_HUBS = ("adlogs",)
HOST = "127.0.0.1"


@dataclass
class StackState:
    """What `stack up` started: enough for `status` and `down`."""

    directory: str
    hubs: list[str]
    partitions: int
    eventhubs_port: int
    blob_port: int
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def state_file(self) -> Path:
        return Path(self.directory) / "stack.json"

    @property
    def env_file(self) -> Path:
        return Path(self.directory) / "azlogs.env"


def eventhubs_connection_string(port: int, host: str = HOST) -> str:
    """The emulator's connection string (its key is a placeholder the emulator ignores)."""
    return (
        f"Endpoint=sb://{host}:{port};SharedAccessKeyName=RootManageSharedAccessKey;"
        "SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true"
    )


def environment(state: StackState) -> dict[str, str]:
    """The AZLOGS_* settings that point the pipeline at this stack."""
    return {
        "AZLOGS_EVENTHUB_CONNECTION_STRING": eventhubs_connection_string(state.eventhubs_port),
        "AZLOGS_EVENTHUB_NAME": ",".join(state.hubs),
        "AZLOGS_STORAGE_CONNECTION_STRING": azurite.connection_string(HOST, state.blob_port),
        "AZLOGS_STORAGE_CONTAINER": "azurelogs",
    }


def export_lines(state: StackState) -> str:
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in environment(state).items())


def load_state(directory: Path) -> StackState | None:
    path = directory / "stack.json"
    if not path.exists():
        return None
    return StackState(**json.loads(path.read_text()))


def _check_port_free(port: int, what: str, option: str) -> None:
    if port_answers(HOST, port):
        raise ServiceError(
            f"Port {port} on {HOST} is already in use, so the {what} cannot start there. Stop "
            f"what uses it (`azlogs stack down` if it is an earlier stack) or choose another "
            f"port with {option}."
        )


def up(
    directory: Path = DEFAULT_DIR,
    hubs: tuple[str, ...] = DEFAULT_HUBS,
    partitions: int = 4,
    eventhubs_port: int = 5672,
    blob_port: int = 10000,
) -> StackState:
    """Start Azurite and the emulator in the background and write the env file."""
    directory = directory.resolve()
    existing = load_state(directory)
    if existing and any(is_alive(pid) for pid in existing.pids.values()):
        raise ServiceError(
            f"A stack started from {directory} is already running. Use `azlogs stack status`, "
            "or `azlogs stack down` first."
        )
    _check_port_free(eventhubs_port, "Event Hubs emulator", "--eventhubs-port")
    _check_port_free(blob_port, "Azurite blob service", "--blob-port")
    state = StackState(str(directory), list(hubs), partitions, eventhubs_port, blob_port)
    blob = azurite.start_azurite(directory / "azurite", HOST, blob_port)
    state.pids["azurite"] = blob.pid
    _save(state)
    try:
        state.pids["eventhubs"] = _start_emulator(state)
    except ServiceError:
        stop_process(blob.pid)
        state.state_file.unlink(missing_ok=True)
        raise
    _save(state)
    state.env_file.write_text(export_lines(state) + "\n")
    return state


def _start_emulator(state: StackState) -> int:
    command = [sys.executable, "-m", "azlogs_pipeline.local.eventhubs", "--host", HOST]
    command += ["--port", str(state.eventhubs_port), "--partitions", str(state.partitions)]
    command += ["--dir", str(Path(state.directory) / "eventhubs")]
    for hub in state.hubs:
        command += ["--hub", hub]
    log = Path(state.directory) / "eventhubs.log"
    process = spawn(command, log)
    wait_for_port(HOST, state.eventhubs_port, process, "Event Hubs emulator", log, 30.0)
    return process.pid


def _save(state: StackState) -> None:
    state.state_file.parent.mkdir(parents=True, exist_ok=True)
    state.state_file.write_text(json.dumps(asdict(state), indent=2))


def status(directory: Path = DEFAULT_DIR) -> dict[str, dict[str, object]]:
    """Per service: pid, port, whether the process lives and whether the port answers."""
    state = load_state(directory.resolve())
    if state is None:
        return {}
    ports = {"azurite": state.blob_port, "eventhubs": state.eventhubs_port}
    return {
        name: {
            "pid": pid,
            "port": ports[name],
            "running": is_alive(pid),
            "answering": port_answers(HOST, ports[name]),
        }
        for name, pid in state.pids.items()
    }


_COMMAND_MARKERS = {"azurite": "azurite", "eventhubs": "azlogs_pipeline.local.eventhubs"}


def _started_by_us(name: str, pid: int) -> bool:
    """True when ``pid`` still runs the service `up` started (not a process that reused the pid)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return is_alive(pid)
    return _COMMAND_MARKERS[name] in command


def down(directory: Path = DEFAULT_DIR) -> list[str]:
    """Stop what `up` started from ``directory``; return the names of the services stopped."""
    state = load_state(directory.resolve())
    if state is None:
        return []
    stopped = [
        name for name, pid in state.pids.items() if _started_by_us(name, pid) and stop_process(pid)
    ]
    state.state_file.unlink(missing_ok=True)
    return stopped
