"""`make ui`: the Dagster UI on the offline local stack, with a day of synthetic logs flowing in.

Starts Azurite and the Event Hubs emulator, publishes a day of synthetic logs, registers the Event
Hub partitions with Dagster, then runs `dagster dev` (webserver and daemon) until Ctrl-C, and stops
the stack again. The hourly schedule and the touched-hours sensor are RUNNING by default; so that a
newcomer needn't wait for the top of the hour, a first drain of every partition runs right away
(recorded in the same instance), and the sensor turns the hours it touched into table builds within
a minute. Ctrl-C or SIGTERM stops everything it started, runs included, within 15 s; what an
earlier, hard-killed `make ui` left running is stopped first (local/session.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from azlogs_pipeline.config import load_local_tool, load_settings
from azlogs_pipeline.demo import HUB, publish_a_day
from azlogs_pipeline.instance import dagster_home, open_instance
from azlogs_pipeline.local import stack
from azlogs_pipeline.local.processes import free_port
from azlogs_pipeline.local.session import stack_session
from azlogs_pipeline.runner import drain_all, register_eventhub_partitions
from azlogs_pipeline.stopping import exit_now

UI_DIR = Path(".azlogs-stack/ui")
UI_PORT = int(load_local_tool("AZLOGS_UI_PORT") or "3000")


def main() -> int:
    with stack_session("ui", UI_DIR) as ended:
        stack.down(UI_DIR)
        shutil.rmtree(UI_DIR, ignore_errors=True)
        state = stack.up(
            UI_DIR, hubs=(HUB,), partitions=4, eventhubs_port=free_port(), blob_port=free_port()
        )
        os.environ.update(stack.environment(state))
        publish_a_day()
        settings = load_settings()
        with open_instance(settings.data_dir) as instance:
            keys = register_eventhub_partitions(instance, settings)
        os.environ["DAGSTER_HOME"] = str(dagster_home(settings.data_dir))
        print(f"\nEvent Hub partitions registered: {', '.join(keys)}")
        command = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml"]
        command += ["-h", "127.0.0.1", "-p", str(UI_PORT)]
        # Its own session: Ctrl-C reaches this process alone, which stops everything in order.
        ui = subprocess.Popen(command, start_new_session=True)
        print("First drain of every partition (the schedule drains them again every hour)...")
        with open_instance(settings.data_dir) as instance:
            drains = drain_all(instance, settings)
        records = sum(int(str(d.metadata.get("records", 0))) for d in drains)
        print(
            f"\nDrained {records} records. Open http://127.0.0.1:{UI_PORT}: Runs shows the drains "
            "and the table builds the sensor launches for the hours they touched. To backfill, "
            "see README 'Backfill from the UI'. Ctrl-C stops the UI and the stack.\n",
            flush=True,
        )
        return ui.wait()
    return ended.exit_code or 0


if __name__ == "__main__":
    exit_now(main())
