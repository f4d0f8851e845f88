"""`azlogs stack up|status|down` and `azlogs generate --publish`, as a user runs them."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from azlogs_pipeline.local.processes import free_port, port_answers
from azlogs_pipeline.publish import read_bodies
from azlogs_pipeline_tests.fixtures.emulator import receive_all, receive_events


def azlogs(*args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=180,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"azlogs {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def parse_exports(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = shlex.split(value)[0]
    return env


@pytest.mark.integration
def test_stack_up_generate_publish_status_down(tmp_path: Path) -> None:
    eh_port, blob_port = free_port(), free_port()
    stack_dir = tmp_path / "stack"
    common = ["--dir", str(stack_dir)]
    out = azlogs(
        "stack", "up", *common, "--hub", "signins", "--hub", "audit", "--partitions", "2",
        "--eventhubs-port", str(eh_port), "--blob-port", str(blob_port),
    )  # fmt: skip
    try:
        env = parse_exports(out)
        assert env["AZLOGS_EVENTHUB_NAME"] == "signins,audit"
        assert f"127.0.0.1:{eh_port}" in env["AZLOGS_EVENTHUB_CONNECTION_STRING"]
        assert parse_exports((stack_dir / "azlogs.env").read_text()) == env
        assert "up" in azlogs("stack", "status", *common)

        again = azlogs("stack", "up", *common, check=False)
        assert "already running" in again

        published = azlogs(
            "generate", "--records", "3000", "--hours", "2", "--seed", "3", "--publish",
            "--hub", "audit", env=env,
        )  # fmt: skip
        bodies = int(published.split("published ")[1].split(" events")[0].replace(",", ""))
        assert bodies > 0
        events = receive_all(env["AZLOGS_EVENTHUB_CONNECTION_STRING"], "audit", expected=bodies)
        assert len(events) == bodies

        ndjson = tmp_path / "logs.ndjson"
        azlogs(
            "generate", "--records", "600", "--hours", "1", "--seed", "4",
            "--malformed-rate", "0.3", "--out", str(ndjson),
        )  # fmt: skip
        written = [body for _, body in read_bodies(ndjson)]
        assert any(line.startswith(b"b64:") for line in ndjson.read_bytes().splitlines())
        azlogs("publish", str(ndjson), "--hub", "signins", "--partition-id", "1", env=env)
        signins = env["AZLOGS_EVENTHUB_CONNECTION_STRING"] + ";EntityPath=signins"
        received = receive_events(signins, "1", expected=len(written))
        assert sorted(b"".join(e.body) for e in received) == sorted(written)
    finally:
        stopped = azlogs("stack", "down", *common)
    assert "azurite" in stopped and "eventhubs" in stopped
    assert not port_answers("127.0.0.1", eh_port)
    assert not port_answers("127.0.0.1", blob_port)
    assert "no stack" in azlogs("stack", "status", *common, check=False)


@pytest.mark.integration
def test_stack_refuses_a_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = azlogs(
            "stack", "up", "--dir", str(tmp_path), "--eventhubs-port", str(port),
            "--blob-port", str(free_port()), check=False,
        )  # fmt: skip
    assert f"Port {port}" in out and "--eventhubs-port" in out


def test_generate_without_destination_is_a_clear_error() -> None:
    out = azlogs("generate", "--records", "10", check=False)
    assert "--out FILE" in out and "--publish" in out
