"""`make demo`: the whole pipeline end to end on the offline local stack, then what arrived.

Starts Azurite and the Event Hubs emulator on free loopback ports, generates a day of synthetic Entra
and Activity logs, publishes them with the real SDK producer, and shows what each partition holds.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from azlogs_pipeline.local import stack
from azlogs_pipeline.local.processes import free_port

DEMO_DIR = Path(".azlogs-stack/demo")
HUB = "adlogs"


def _section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def start_stack() -> stack.StackState:
    _section("Starting the local stack (Azurite + Event Hubs emulator)")
    stack.down(DEMO_DIR)
    state = stack.up(
        DEMO_DIR, hubs=(HUB,), partitions=4, eventhubs_port=free_port(), blob_port=free_port()
    )
    os.environ.update(stack.environment(state))
    print(f"Event Hubs emulator on 127.0.0.1:{state.eventhubs_port}, hub {HUB!r}, 4 partitions")
    print(f"Azurite blob service on 127.0.0.1:{state.blob_port}")
    return state


def publish_a_day() -> int:
    from azlogs_pipeline.config import load_eventhub_settings
    from azlogs_pipeline.ingest.clients import make_producer
    from azlogs_pipeline.local.generator import GeneratorOptions, generate
    from azlogs_pipeline.publish import publish_bodies

    _section("Generating and publishing a day of synthetic logs")
    started = time.monotonic()
    result = generate(GeneratorOptions(records=20_000, hours=24, seed=7, malformed_rate=0.01))
    print(f"generated {len(result.records):,} records in {len(result.bodies):,} event bodies")
    settings = load_eventhub_settings()
    with make_producer(settings, HUB) as producer:
        sent = publish_bodies(producer, [(f"body {i}", b) for i, b in enumerate(result.bodies)])
    print(
        f"published {sent.events:,} events ({sent.bytes / 1e6:.1f} MB) in {sent.batches} batches "
        f"in {time.monotonic() - started:.1f} s"
    )
    return sent.events


def show_partitions() -> int:
    from azlogs_pipeline.config import load_eventhub_settings
    from azlogs_pipeline.ingest.clients import make_consumer

    _section("What arrived in the Event Hub")
    settings = load_eventhub_settings()
    total = 0
    with make_consumer(settings, HUB) as consumer:
        print(
            f"{'partition':>9} {'first seq':>9} {'last seq':>9} {'events':>7}  last enqueued (UTC)"
        )
        for pid in consumer.get_partition_ids():
            props = consumer.get_partition_properties(pid)
            count = 0
            if not props["is_empty"]:
                count = (
                    props["last_enqueued_sequence_number"] - props["beginning_sequence_number"] + 1
                )
            total += count
            print(
                f"{pid:>9} {props['beginning_sequence_number']:>9} "
                f"{props['last_enqueued_sequence_number']:>9} {count:>7}  "
                f"{props['last_enqueued_time_utc']:%Y-%m-%d %H:%M:%S}"
            )
    print(f"{'total':>9} {'':>9} {'':>9} {total:>7}")
    return total


def main() -> int:
    start_stack()
    try:
        sent = publish_a_day()
        arrived = show_partitions()
    finally:
        stack.down(DEMO_DIR)
        print("\nStopped the local stack.")
    if arrived != sent:
        print(f"MISMATCH: published {sent} events but the hub holds {arrived}", file=sys.stderr)
        return 1
    print(f"\nAll {sent:,} published events arrived.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
