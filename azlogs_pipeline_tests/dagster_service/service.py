"""A real Dagster service for tests: `dagster-webserver` and `dagster-daemon` as subprocesses.

Both run on loopback against a temporary DAGSTER_HOME that holds the project's dagster.yaml, with a
workspace that loads `azlogs_pipeline.definitions`, and the AZLOGS_* settings of the test's local
stack. The webserver's GraphQL API is what the UI calls, so a mutation sent here is a UI click.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import requests

from azlogs_pipeline.instance import instance_yaml
from azlogs_pipeline.local.processes import free_port, stop_process, tail, wait_for_port

HOST = "127.0.0.1"
STARTUP_SECONDS = 180.0


class GraphQLError(RuntimeError):
    """The webserver answered a GraphQL request with errors."""


@dataclass(frozen=True)
class DagsterService:
    url: str
    home: Path
    logs: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise GraphQLError(
                f"{body['errors']}\nwebserver log:\n{tail(self.logs / 'webserver.log')}"
            )
        return dict(body["data"])


def _wait_for_definitions(service: DagsterService, deadline: float) -> None:
    """The code location is loaded (it is loaded in a subprocess after the port opens)."""
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
    query += "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
    while time.monotonic() < deadline:
        entries = service.graphql(query)["workspaceOrError"]["locationEntries"]
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            errors = [e["locationOrLoadError"] for e in entries]
            if any(e["__typename"] == "PythonError" for e in errors):
                raise GraphQLError(f"the code location did not load: {errors}")
            return
        time.sleep(0.5)
    raise TimeoutError(f"the code location did not load within {STARTUP_SECONDS:.0f} s")


@contextmanager
def running_dagster(root: Path, environment: dict[str, str]) -> Iterator[DagsterService]:
    """Start webserver and daemon in ``root`` (home, workspace, logs); stop both on exit."""
    home, logs = root / "dagster_home", root / "logs"
    home.mkdir(parents=True)
    logs.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml(None, home))
    # Create the instance's SQLite storage once: webserver and daemon starting together on a
    # fresh home race to create the same tables ("table alembic_version already exists").
    with dg.DagsterInstance.from_config(str(home)):
        pass
    workspace = root / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_module:\n      module_name: azlogs_pipeline.definitions\n"
        f"      working_directory: {root}\n"
    )
    env = {**os.environ, **environment, "DAGSTER_HOME": str(home)}
    bin_dir = Path(sys.executable).parent
    port = free_port()
    commands = {
        "webserver": [str(bin_dir / "dagster-webserver"), "-h", HOST, "-p", str(port)],
        "daemon": [str(bin_dir / "dagster-daemon"), "run"],
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in commands.items():
            with open(logs / f"{name}.log", "ab") as log:
                processes.append(
                    subprocess.Popen(
                        [*command, "-w", str(workspace)],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        cwd=root,
                        env=env,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + STARTUP_SECONDS
        wait_for_port(
            HOST, port, processes[0], "dagster-webserver", logs / "webserver.log", STARTUP_SECONDS
        )
        service = DagsterService(f"http://{HOST}:{port}", home, logs)
        _wait_for_definitions(service, deadline)
        yield service
    finally:
        for process in processes:
            stop_process(process.pid, timeout=20)
            process.wait(timeout=10)
