"""`make ui`: the Dagster UI on the offline local stack, with a day of synthetic logs to drain.

Starts Azurite and the Event Hubs emulator, publishes a day of synthetic logs, registers the Event
Hub partitions with Dagster, then runs `dagster dev` (webserver and daemon) until Ctrl-C, and stops
the stack again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from azlogs_pipeline.config import load_local_tool, load_settings
from azlogs_pipeline.demo import HUB, publish_a_day
from azlogs_pipeline.local import stack
from azlogs_pipeline.local.processes import exit_on_sigterm, free_port
from azlogs_pipeline.runner import dagster_home, open_instance, register_eventhub_partitions

UI_DIR = Path(".azlogs-stack/ui")
UI_PORT = int(load_local_tool("AZLOGS_UI_PORT") or "3000")


def main() -> int:
    exit_on_sigterm()
    stack.down(UI_DIR)
    shutil.rmtree(UI_DIR, ignore_errors=True)
    state = stack.up(
        UI_DIR, hubs=(HUB,), partitions=4, eventhubs_port=free_port(), blob_port=free_port()
    )
    os.environ.update(stack.environment(state))
    try:
        publish_a_day()
        settings = load_settings()
        with open_instance(settings.data_dir) as instance:
            keys = register_eventhub_partitions(instance, settings)
        os.environ["DAGSTER_HOME"] = str(dagster_home(settings.data_dir))
        print(f"\nEvent Hub partitions registered: {', '.join(keys)}")
        print(
            f"Open http://127.0.0.1:{UI_PORT}, go to Assets > raw_events > Materialize, pick "
            "partitions (or all) and launch a backfill. Ctrl-C stops the UI and the stack.\n",
            flush=True,
        )
        command = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml"]
        command += ["-h", "127.0.0.1", "-p", str(UI_PORT)]
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0
    finally:
        stack.down(UI_DIR)
        print("Stopped the local stack.")


if __name__ == "__main__":
    sys.exit(main())
