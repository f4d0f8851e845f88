"""`make ui` and `make demo` stop everything they started on Ctrl-C (SIGINT to their process
group), whatever is running; a `make ui` that was killed hard is cleaned up by the next one."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import azlogs_pipeline
from azlogs_pipeline.local.processes import free_port, port_answers
from azlogs_pipeline.local.session import MARK, Session

pytestmark = pytest.mark.integration
PROJECT = Path(azlogs_pipeline.__file__).resolve().parents[1]
STOP_SECONDS = 15.0


class Started:
    """`python -m <module>` in its own process group, as a shell starts `make ui`."""

    def __init__(self, module: str, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None, f"ended before {text!r}:\n{self.output}"
            assert time.monotonic() < deadline, (
                f"no {text!r} within {timeout:.0f} s:\n{self.output}"
            )
            time.sleep(0.1)


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DAGSTER_HOME", MARK}}
    return {**env, "AZLOGS_DATA_DIR": str(tmp_path / "data"), "AZLOGS_DEMO_RECORDS": "400", **extra}


def stack_ports(env_file: Path) -> list[int]:
    return sorted({int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", env_file.read_text())})


def assert_all_stopped(started: Started, session: Session, ports: list[int], signum: int) -> None:
    """Within STOP_SECONDS of the signal: exited, no marked process alive, no port answering."""
    sent = time.monotonic()
    os.killpg(started.process.pid, signum)
    try:
        code = started.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_SECONDS:.0f} s after {signum}:\n{started.output}")
    left = session.processes()
    for process in left:
        process.kill()
    assert not left, f"left running: {[' '.join(p.cmdline()) for p in left]}"
    assert time.monotonic() - sent <= STOP_SECONDS
    assert code == 128 + signum, started.output
    assert not [port for port in ports if port_answers("127.0.0.1", port)]
    assert "Stopped " in started.output


def test_make_ui_stops_everything_on_ctrl_c_and_cleans_up_after_a_hard_kill(
    tmp_path: Path,
) -> None:
    shutil.copy(PROJECT / "workspace.yaml", tmp_path / "workspace.yaml")
    ui_port = free_port()
    env = environment(tmp_path, AZLOGS_UI_PORT=str(ui_port))
    session = Session("ui", tmp_path / ".azlogs-stack" / "ui")

    killed = Started("azlogs_pipeline.ui", tmp_path, env)
    killed.wait_for("First drain of every partition")
    os.kill(killed.process.pid, signal.SIGKILL)
    killed.process.wait(timeout=10)
    assert session.processes(), "dagster dev and the stack outlive a hard-killed make ui"

    again = Started("azlogs_pipeline.ui", tmp_path, env)
    again.wait_for("left running by an earlier `make ui`")
    again.wait_for("First drain of every partition")
    deadline = time.monotonic() + 300
    while not port_answers("127.0.0.1", ui_port):
        assert time.monotonic() < deadline, f"the UI did not answer:\n{again.output}"
        time.sleep(0.5)
    ports = [ui_port, *stack_ports(tmp_path / ".azlogs-stack" / "ui" / "azlogs.env")]
    assert_all_stopped(again, session, ports, signal.SIGINT)


def test_make_demo_stops_everything_on_ctrl_c_mid_build(tmp_path: Path) -> None:
    env = environment(tmp_path)
    session = Session("demo", tmp_path / ".azlogs-stack" / "demo")

    demo = Started("azlogs_pipeline.demo", tmp_path, env)
    demo.wait_for("Building the normalized tables")
    ports = stack_ports(tmp_path / ".azlogs-stack" / "demo" / "azlogs.env")
    assert_all_stopped(demo, session, ports, signal.SIGINT)
    assert "drained exactly once" not in demo.output
