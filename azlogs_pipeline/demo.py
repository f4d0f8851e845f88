"""`make demo`: the whole pipeline end to end on the offline local stack, then what it produced.

Starts Azurite and the Event Hubs emulator on free loopback ports, generates a day of synthetic Entra
and Activity logs (malformed bodies included), publishes them with the real SDK producer, drains
every partition into the raw lake through Dagster (as `azlogs run` does), drains again to show
that nothing is read twice, and reports what landed and what was dead-lettered. Ctrl-C or SIGTERM
stops everything it started within 15 s, whatever step it is in (local/session.py).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from azlogs_pipeline.config import load_local_tool
from azlogs_pipeline.local import stack
from azlogs_pipeline.local.processes import free_port
from azlogs_pipeline.local.session import stack_session
from azlogs_pipeline.stopping import exit_now

DEMO_DIR = Path(".azlogs-stack/demo")
DEMO_DATA = Path("data/demo")
HUB = "adlogs"


def _section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def start_stack() -> stack.StackState:
    _section("Starting the local stack (Azurite + Event Hubs emulator)")
    stack.down(DEMO_DIR)
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
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
    records = int(load_local_tool("AZLOGS_DEMO_RECORDS") or "20000")
    result = generate(GeneratorOptions(records=records, hours=24, seed=7, malformed_rate=0.01))
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


def drain_everything(title: str) -> int:
    """Drain every partition through Dagster; return the events drained."""
    from azlogs_pipeline.config import load_settings
    from azlogs_pipeline.instance import open_instance
    from azlogs_pipeline.runner import drain_all

    _section(title)
    settings = load_settings()
    with open_instance(settings.data_dir) as instance:
        runs = drain_all(instance, settings)
    print(
        f"{'partition':12} {'events':>7} {'records':>8} {'dead':>5} {'repaired':>8} {'lag':>4}  s"
    )
    for run in runs:
        meta = run.metadata
        if not run.success:
            raise SystemExit(f"the drain of {run.partition_key} failed: {run.error}")
        print(
            f"{run.partition_key:12} {meta['events']:>7} {meta['records']:>8} "
            f"{meta['dead_letters']:>5} {meta['repaired']:>8} {meta['lag_after']:>4}  "
            f"{meta['duration_seconds']:.1f}"
        )
    return sum(int(str(run.metadata["events"])) for run in runs)


def build_tables() -> None:
    """Build every hour the lake says needs building (a few Dagster runs), then count rows."""
    from azlogs_pipeline.config import load_settings
    from azlogs_pipeline.lake.read_only import connect_read_only
    from azlogs_pipeline.normalize.tables import TABLE_NAMES
    from azlogs_pipeline.runner import build_all, lake_plan

    settings = load_settings()
    hours = len(lake_plan(settings.data_dir).table_hours)
    _section(f"Building the normalized tables of the {hours} hours the lake holds (Dagster runs)")
    started = time.monotonic()
    runs = build_all(settings.data_dir)
    failed = [run for run in runs if not run.success]
    if failed:
        raise SystemExit(
            f"building {failed[0].kind} {failed[0].partition_key} failed: {failed[0].error}"
        )
    print(
        f"{hours} hours, their summaries and days built in {len(runs)} runs, "
        f"{time.monotonic() - started:.1f} s"
    )
    with connect_read_only(settings.data_dir) as con:
        for table in TABLE_NAMES:
            count = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            print(f"  {table:32} {count[0] if count else 0:>7} rows")


def show_summaries() -> None:
    from azlogs_pipeline.config import load_settings
    from azlogs_pipeline.summarize.report import print_report

    _section("Sign-in summary and every detection (catalog views signin_summary, detections)")
    print_report(load_settings().data_dir)


def write_the_report() -> Path:
    """The security report of the demo's busiest UTC day, through Dagster (`security_report`)."""
    from azlogs_pipeline.config import load_settings
    from azlogs_pipeline.daily_report.data import busiest_day
    from azlogs_pipeline.instance import open_instance
    from azlogs_pipeline.lake.read_only import connect_read_only
    from azlogs_pipeline.runner import write_reports_run

    settings = load_settings()
    with connect_read_only(settings.data_dir) as con:
        day = busiest_day(con)
    if day is None:
        raise SystemExit("no sign-ins were built, so there is no day to report on")
    _section(f"The security report of {day} (asset security_report, one HTML page)")
    with open_instance(settings.data_dir) as instance:
        [run] = write_reports_run(instance, settings.data_dir, [day])
    if not run.success or run.path is None:
        raise SystemExit(f"the security report of {day} failed: {run.error}")
    return Path(run.path)


def show_lake() -> None:
    from azlogs_pipeline.lake.inspect import deadletters_per_reason, raw_records_per_category
    from azlogs_pipeline.lake.paths import lake_root

    _section(f"The raw lake ({lake_root(DEMO_DATA)})")
    print(f"{'category':36} {'records':>8} {'distinct':>8} {'repaired':>8}  event hours (UTC)")
    for category, records, distinct, repaired, first, last in raw_records_per_category(DEMO_DATA):
        print(
            f"{category:36} {records:>8} {distinct:>8} {repaired:>8}  "
            f"{first:%m-%d %H:%M} .. {last:%m-%d %H:%M}"
        )
    print("\nDead letters (original bytes kept, with position and reason):")
    for reason, events, size in deadletters_per_reason(DEMO_DATA):
        print(f"  {reason:34} {events:>6} events {size:>10,} bytes")


def main() -> int:
    with stack_session("demo", DEMO_DIR) as ended:
        shutil.rmtree(DEMO_DATA, ignore_errors=True)
        os.environ["AZLOGS_DATA_DIR"] = str(DEMO_DATA)
        os.environ.pop("DAGSTER_HOME", None)
        start_stack()
        sent = publish_a_day()
        arrived = show_partitions()
        drained = drain_everything("Draining every partition into the raw lake (Dagster runs)")
        again = drain_everything("Draining again: checkpoints say there is nothing new")
        show_lake()
        build_tables()
        show_summaries()
        report = write_the_report()
    if ended.exit_code is not None:
        return ended.exit_code
    if not sent == arrived == drained or again:
        print(
            f"MISMATCH: published {sent}, held {arrived}, drained {drained} then {again} events",
            file=sys.stderr,
        )
        return 1
    from azlogs_pipeline.lake.storage import configured_lake

    if configured_lake() is not None:
        print(
            f"\nAll {sent:,} published events were drained exactly once. The lake was in the "
            "demo's Azurite (AZLOGS_LAKE_URL), stopped with the stack; the Dagster runs are in "
            f"{DEMO_DATA / 'dagster'}."
        )
        return 0
    print(
        f"\nAll {sent:,} published events were drained exactly once. The lake stays in "
        f"{DEMO_DATA}; the Dagster runs are in {DEMO_DATA / 'dagster'}. Query it with:\n"
        f"  AZLOGS_DATA_DIR={DEMO_DATA} .venv/bin/azlogs sql "
        '"SELECT app_display_name, result, count(*) FROM signin_logs GROUP BY ALL ORDER BY 3 DESC"'
    )
    print(f"\nThe day's security report (open it in a browser, offline):\n  {report}")
    return 0


if __name__ == "__main__":
    exit_now(main())
