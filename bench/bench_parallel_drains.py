"""Parallel drains: `drain_all` over a 4-partition hub, AZLOGS_DRAIN_PARALLELISM=N against 1.

Starts Azurite and the emulator (the local stack), publishes a backlog of generated records spread
over 4 partitions, then drains it twice from scratch (a new checkpoint container and data dir each
time), once one partition at a time and once N at once (default: the cores), each drain a Dagster
run in its own worker process as `azlogs run` does. Prints records/s for both and the ratio.

    .venv/bin/python bench/bench_parallel_drains.py [--records 200000] [--parallelism 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from azure.eventhub import EventData, EventHubProducerClient  # noqa: E402

from azlogs_pipeline.config import load_drain_parallelism, load_settings  # noqa: E402
from azlogs_pipeline.instance import open_instance  # noqa: E402
from azlogs_pipeline.local import stack  # noqa: E402
from azlogs_pipeline.local.generator import GeneratorOptions, generate  # noqa: E402
from azlogs_pipeline.local.processes import free_port  # noqa: E402
from azlogs_pipeline.runner import drain_all  # noqa: E402

HUB = "bench"
PARTITIONS = 4


def publish(connection_string: str, bodies: list[bytes]) -> None:
    with EventHubProducerClient.from_connection_string(
        connection_string, eventhub_name=HUB
    ) as producer:
        for partition in range(PARTITIONS):
            batch = producer.create_batch(partition_id=str(partition))
            for body in bodies[partition::PARTITIONS]:
                try:
                    batch.add(EventData(body))
                except ValueError:
                    producer.send_batch(batch)
                    batch = producer.create_batch(partition_id=str(partition))
                    batch.add(EventData(body))
            producer.send_batch(batch)


def drain(parallelism: int, root: Path, environment: dict[str, str]) -> tuple[float, int]:
    """Seconds and records of one `drain_all` from scratch."""
    os.environ.update(environment)
    os.environ["AZLOGS_DATA_DIR"] = str(root / f"data-{parallelism}")
    os.environ["AZLOGS_STORAGE_CONTAINER"] = f"bench-{parallelism}"
    os.environ.pop("DAGSTER_HOME", None)
    settings = load_settings()
    with open_instance(settings.data_dir) as instance:
        started = time.monotonic()
        runs = drain_all(instance, settings, parallelism=parallelism)
        seconds = time.monotonic() - started
    if not all(run.success for run in runs):
        raise SystemExit(f"a drain failed: {[run.error for run in runs if not run.success]}")
    return seconds, sum(int(str(run.metadata["records"])) for run in runs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--parallelism", type=int, default=load_drain_parallelism())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp:
        root = Path(tmp)
        state = stack.up(
            root / "stack", hubs=(HUB,), partitions=PARTITIONS,
            eventhubs_port=free_port(), blob_port=free_port(),
        )  # fmt: skip
        try:
            environment = stack.environment(state)
            bodies = generate(GeneratorOptions(records=args.records, hours=24, seed=3)).bodies
            publish(environment["AZLOGS_EVENTHUB_CONNECTION_STRING"], bodies)
            serial, records = drain(1, root, environment)
            parallel, again = drain(args.parallelism, root, environment)
        finally:
            stack.down(root / "stack")
    assert records == again, (records, again)
    print(f"{records:,} records over {PARTITIONS} partitions, {os.cpu_count()} cores")
    print(f"one partition at a time: {serial:6.1f} s, {records / serial:9,.0f} records/s")
    print(
        f"{args.parallelism} at once:            {parallel:6.1f} s, "
        f"{records / parallel:9,.0f} records/s"
    )
    print(f"ratio: {serial / parallel:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
