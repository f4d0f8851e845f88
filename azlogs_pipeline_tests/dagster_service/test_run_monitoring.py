"""With the daemon, run monitoring frees the pool slots a run still held when it ended (a worker
killed mid-step never frees its own): the project's dagster.yaml, with short intervals."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from azlogs_pipeline.instance import instance_yaml
from azlogs_pipeline.local.processes import stop_process

pytestmark = pytest.mark.integration

POOL = "lake_writers"


@dg.asset
def crashes() -> None:
    raise RuntimeError("the worker died here")


def test_the_daemon_frees_the_slots_of_an_ended_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    yaml = instance_yaml(None, home)
    for setting, value in (("poll_interval_seconds", 1), ("free_slots_after_run_end_seconds", 1)):
        assert f"  {setting}: " in yaml, f"dagster.yaml no longer sets {setting}"
        yaml = "\n".join(
            f"  {setting}: {value}" if line.startswith(f"  {setting}: ") else line
            for line in yaml.splitlines()
        )
    (home / "dagster.yaml").write_text(yaml + "\n")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = dg.materialize([crashes], instance=instance, raise_on_error=False)
        assert not run.success
        # What a worker killed inside a pooled step leaves behind: its run ended, its slot held.
        instance.event_log_storage.initialize_concurrency_limit_to_default(POOL)
        claim = instance.event_log_storage.claim_concurrency_slot(POOL, run.run_id, "crashes")
        assert claim.is_claimed
        assert instance.event_log_storage.get_concurrency_info(POOL).active_slot_count == 1

        workspace = tmp_path / "workspace.yaml"
        workspace.write_text(
            "load_from:\n  - python_module:\n      module_name: azlogs_pipeline.definitions\n"
        )
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(workspace)],
            env={**os.environ, "DAGSTER_HOME": str(home)},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                if instance.event_log_storage.get_concurrency_info(POOL).active_slot_count == 0:
                    break
                assert daemon.poll() is None, "the daemon exited"
                time.sleep(1)
        finally:
            stop_process(daemon.pid, timeout=20)
            daemon.wait(timeout=10)
        assert instance.event_log_storage.get_concurrency_info(POOL).active_slot_count == 0
