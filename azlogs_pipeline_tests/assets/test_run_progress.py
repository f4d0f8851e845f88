"""What `azlogs run` shows while it works: live bars on a terminal, plain lines otherwise; and the
progress of a drain in its Dagster run's log."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from azlogs_pipeline.assets import ingest
from azlogs_pipeline_tests.assets.drains import drain, drain_instance
from azlogs_pipeline_tests.assets.test_run_interrupts import publish
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.settings import local_environment
from azlogs_pipeline_tests.fixtures.stack import LocalStack

HUB = "adlogs"
DRAIN_LINE = re.compile(r"^adlogs:[01] +drained +\d+ +\d+ +\d+ +0$")


def run_on_a_terminal(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`azlogs run` with a pseudo-terminal as stdout, as a user at a shell sees it."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "azlogs_pipeline.cli", "run"],
        stdout=follower, stderr=subprocess.PIPE, cwd=cwd,
        env={**os.environ, **env, "TERM": "xterm-256color", "COLUMNS": "160"},
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 300)
        assert ready, "no output for 300 s"
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.stderr is not None
    process.stderr.read()
    return process.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_a_terminal_gets_live_progress_and_a_pipe_plain_lines(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=2)
    publish(emulator, partitions=2, events=1500, hours=2)
    env = local_environment(emulator, azurite_endpoint, tmp_path / "tty")

    code, screen = run_on_a_terminal(env, tmp_path)

    assert code == 0, screen
    assert "\x1b[" in screen, "the bars are redrawn in place"
    assert re.search(r"adlogs:[01] .*of 1,500 events, [\d,]+ records, [\d,]+ events/s, ETA", screen)
    assert re.search(r"adlogs:[01] .*drained: 1,500 events, 15,000 records", screen)
    assert re.search(r"hours .*\d of 2 hours built", screen)

    env = local_environment(emulator, azurite_endpoint, tmp_path / "pipe")  # a new consumer
    piped = subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", "run"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env={**os.environ, **env},
    )  # fmt: skip

    assert piped.returncode == 0, piped.stderr
    assert "\x1b" not in piped.stdout and "\r" not in piped.stdout
    assert "ETA" not in piped.stdout and "events/s" not in piped.stdout
    lines = piped.stdout.splitlines()
    assert lines[0].split() == ["partition", "status", "events", "records", "dead", "lag"]
    assert all(DRAIN_LINE.match(line) for line in lines[1:3]), lines[:3]
    # Both hours in one run; no day run: no daily summary has data (sign-ins only).
    assert lines[3:5] == [
        "hours 2026-11-20-00:00...2026-11-20-01:00 ok: 30,000 table rows, 0 detections",
        "",
    ]


def test_a_long_drain_reports_its_progress_in_the_run_log(
    local_stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = local_stack(hubs=[HUB], partitions=1)
    publish(emulator, partitions=1, events=1500, hours=1)
    monkeypatch.setattr(ingest, "RUN_LOG_PROGRESS_SECONDS", 0.0)  # every report counts as long
    instance = drain_instance(f"{HUB}:0")

    result = drain(instance, f"{HUB}:0")

    assert result.success
    messages = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.level == 20 and "events/s" in entry.user_message
    ]
    assert messages, "progress lines in the run's log"
    assert re.match(
        r"adlogs:0: [\d,]+ of 1,500 events \(\d+%\), [\d,]+ records, [\d,]+ events/s, ETA",
        messages[0],
    )
