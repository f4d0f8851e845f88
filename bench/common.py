"""What several benchmarks share: the local stack on free ports, a generated raw lake, and a
timed `runner.build_pending` from scratch.

Imports of azlogs_pipeline modules that read settings at import time stay inside the functions:
a benchmark sets its environment (`AZLOGS_PARTITION_START`) before it calls them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
FAKE_HUB = (
    "Endpoint=sb://bench.invalid/;SharedAccessKeyName=bench;SharedAccessKey=YmVuY2g=;"
    "EntityPath=adlogs"
)
"""An Event Hub connection string that validates and is never used (builds only)."""


@dataclass(frozen=True)
class BenchStack:
    eventhubs: str
    """The emulator's connection string."""
    storage: str
    """Azurite's connection string."""


@contextmanager
def local_stack(work: Path, hubs: Sequence[str], partitions: int) -> Iterator[BenchStack]:
    """Azurite and an in-memory Event Hubs emulator (its own process) on free ports, stopped on
    exit."""
    from azlogs_pipeline.local import azurite
    from azlogs_pipeline.local.processes import free_port, spawn, stop_process, wait_for_port
    from azlogs_pipeline.local.stack import eventhubs_connection_string

    blob_port, eh_port = free_port(), free_port()
    blob = azurite.start_azurite(work / "azurite", HOST, blob_port)
    log = work / "eventhubs.log"
    command = [sys.executable, "-m", "azlogs_pipeline.local.eventhubs", "--host", HOST]
    command += ["--port", str(eh_port), "--partitions", str(partitions)]
    for hub in hubs:
        command += ["--hub", hub]
    emulator = spawn(command, log, cwd=ROOT)
    try:
        wait_for_port(HOST, eh_port, emulator, "Event Hubs emulator", log, 30)
        yield BenchStack(
            eventhubs_connection_string(eh_port), azurite.connection_string(HOST, blob_port)
        )
    finally:
        stop_process(emulator.pid)
        stop_process(blob.pid)


def land_generated(
    data_dir: Path,
    records: int,
    hours: int,
    *,
    seed: int,
    start: datetime,
    flush_every: int | None = None,
) -> int:
    """Generate `records` over `hours` from `start` and land them as one partition's drain does
    (a flush every `flush_every` events, or one at the end); the records landed."""
    from azlogs_pipeline.ingest.batch import RawBatchWriter
    from azlogs_pipeline.local.generator import GeneratorOptions, generate

    generated = generate(GeneratorOptions(records=records, hours=hours, seed=seed, start=start))
    enqueued = start + timedelta(hours=hours)
    writer = RawBatchWriter(data_dir, "adlogs", "0", clock=lambda: enqueued)
    for seq, body in enumerate(generated.bodies):
        writer.add_event(body, sequence_number=seq, offset=str(seq), enqueued_time=enqueued)
        if flush_every and seq % flush_every == flush_every - 1:
            writer.flush()
    writer.flush()
    return len(generated.records)


@dataclass(frozen=True)
class Built:
    seconds: float
    runs: int
    events: int
    """Dagster events the runs recorded."""
    ok: bool
    """Every run succeeded and the lake asks for no more table hours."""
    cpu_seconds: float = 0.0
    """CPU time of this process (every thread) during the build."""


def build_pending_timed(data_dir: Path) -> Built:
    """`runner.build_pending` on the lake in `data_dir` (the instance `DAGSTER_HOME` names, or
    the data dir's own), timed: every table and summary it asks for."""
    from azlogs_pipeline.config import load_settings
    from azlogs_pipeline.instance import open_instance
    from azlogs_pipeline.runner import build_pending, lake_plan

    settings = load_settings(
        {
            "AZLOGS_EVENTHUB_CONNECTION_STRING": FAKE_HUB,
            "AZLOGS_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
            "AZLOGS_DATA_DIR": str(data_dir),
        }
    )
    with open_instance(settings.data_dir) as instance:
        started, cpu = time.perf_counter(), time.process_time()
        runs = build_pending(instance, settings.data_dir)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        events = sum(len(instance.get_records_for_run(r.run_id).records) for r in runs)
        left = lake_plan(settings.data_dir)
    ok = all(run.success for run in runs) and not left.table_hours
    return Built(seconds, len(runs), events, ok, cpu)
