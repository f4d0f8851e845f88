"""End-to-end drain benchmark: local emulator -> real SDK consumer -> raw Parquet lake.

Publishes a backlog of realistic bodies (about 100 generated records of 2-4 KB per event) to one
partition of the emulator (run in its own process, as a real service would be), then drains it:

- azlogs: `drain_partition` (bounded batches, atomic Parquet, blob checkpoints), in a child process;
- baseline: what a quick hand-written shipper does: the SDK's receive callback, `json.loads`,
  pandas to Parquet and a blob checkpoint per batch, in a child process.
- ceiling: the SDK's receive callback taking each event's bytes and discarding them (how fast
  this machine delivers events to any SDK consumer at all), in a child process.

Two backlog layouts, each on its own partition, each drained by azlogs and by the naive consumer
on the same bodies (`--layouts`): "spread", every event mixing records of 24 event-time hours and
~20 categories (the pessimistic case: a flush writes a file for most of ~500 (category, hour)
groups), and "ordered", events in event-time order with one category each, as a real backlog of
diagnostic settings lies in Event Hubs (a flush touches ~10-20 groups).

Prints records/s, MB/s, peak RSS, CPU per record and files per 1,000 records for both, the load
average around each figure, and the ratio (issue 10's target: at least 2x).

Then, end to end: `azlogs run` (drains, tables, summaries, catalog) over a 4-partition hub holding
`--run-records` generated sign-ins (100 per event, spread over `--run-hours` event-time hours),
against the naive consumer draining the same hub alone (all partitions, one process, as a quick
shipper would), each on its own consumer group's checkpoints (target: at least 3x).

    .venv/bin/python bench/bench_drain.py [--records 1000000] [--baseline-records 200000]
        [--layouts spread,ordered] [--rounds 1] [--run-records 200000] [--run-hours 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import local_stack  # noqa: E402

from azlogs_pipeline.ingest.records import extract_record_fields  # noqa: E402
from azlogs_pipeline.local.generator import GeneratorOptions, generate  # noqa: E402

HUB = "bench"
RUN_HUB = "runbench"
RECORDS_PER_EVENT = 100

PEAK_RSS = """
def peak_rss_mb():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024
"""
"""This process's own peak RSS. Not `ru_maxrss`: on Linux a child started by `subprocess` starts
with its parent's high-water mark (exec records the forked address space's), so every child of
this benchmark, which holds the generated backlog, reported about the parent's 375 MB."""

OURS = (
    PEAK_RSS
    + """
import json, resource, sys, time
from azlogs_pipeline.config import load_settings
from azlogs_pipeline.ingest.drain import drain_partition
cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
started, cpu0 = time.monotonic(), cpu()
result = drain_partition(load_settings(), "bench", sys.argv[1])
print(json.dumps({"seconds": time.monotonic() - started, "records": result.records,
                  "bytes": result.body_bytes, "events": result.events, "lag": result.lag_after,
                  "files": result.files, "dead_letters": result.dead_letters,
                  "rss_mb": peak_rss_mb(), "cpu": cpu() - cpu0}))
"""
)

RECEIVE_TIMED = """
cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
started, cpu0 = time.monotonic(), cpu()
worker = threading.Thread(target=client.receive_batch, kwargs=dict(
    on_event_batch=on_batch, starting_position="-1", max_batch_size=100, max_wait_time=3,
    **partition), daemon=True)
worker.start(); done.wait(); elapsed = time.monotonic() - started; client.close()
print(json.dumps({"seconds": elapsed, "records": records(), "bytes": state["bytes"],
                  "rss_mb": peak_rss_mb(), "cpu": cpu() - cpu0}))
"""
"""The tail of a naive consumer's script: `client`, `on_batch`, `partition`, `state`, `done` and
`records()` defined, it receives until `done`, and prints its figures."""

BASELINE = (
    PEAK_RSS
    + """
import json, os, resource, sys, threading, time
import pandas as pd
from azure.eventhub import EventHubConsumerClient
from azure.eventhub.extensions.checkpointstoreblob import BlobCheckpointStore
limit = int(sys.argv[1]); out = sys.argv[2]
hub = sys.argv[3] if len(sys.argv) > 3 else "bench"
partition = {"partition_id": sys.argv[4]} if len(sys.argv) > 4 else {}
store = BlobCheckpointStore.from_connection_string(
    os.environ["AZLOGS_STORAGE_CONNECTION_STRING"], os.environ["AZLOGS_STORAGE_CONTAINER"])
client = EventHubConsumerClient.from_connection_string(
    os.environ["AZLOGS_EVENTHUB_CONNECTION_STRING"], consumer_group="$Default",
    eventhub_name=hub, checkpoint_store=store)
state = {"records": 0, "bytes": 0, "files": 0}
lock = threading.Lock()
done = threading.Event()
def on_batch(ctx, events):
    if not events:
        done.set(); return
    rows = []
    for event in events:
        body = event.body_as_str()
        state["bytes"] += len(body)
        for record in json.loads(body)["records"]:
            rows.append({"category": record.get("category"), "time": record.get("time"),
                         "record": json.dumps(record)})
    with lock:
        name = f"{out}/batch-{state['files']}.parquet"
        state["files"] += 1
    pd.DataFrame(rows).to_parquet(name)
    ctx.update_checkpoint(events[-1])
    with lock:
        state["records"] += len(rows)
        if state["records"] >= limit:
            done.set()
records = lambda: state["records"]
"""
    + RECEIVE_TIMED
)


DISCARD = (
    PEAK_RSS
    + """
import json, os, resource, sys, threading, time
from azure.eventhub import EventHubConsumerClient
events = int(sys.argv[1])
client = EventHubConsumerClient.from_connection_string(
    os.environ["AZLOGS_EVENTHUB_CONNECTION_STRING"], consumer_group="$Default", eventhub_name="bench")
state = {"events": 0, "bytes": 0}
done = threading.Event()
def on_batch(ctx, batch):
    if not batch:
        done.set(); return
    for event in batch:
        state["bytes"] += len(next(event.body))
    state["events"] += len(batch)
    if state["events"] >= events:
        done.set()
partition = {"partition_id": "0"}
records = lambda: state["events"] * %d
"""
    + RECEIVE_TIMED
)
"""The ceiling: the SDK's receive callback taking each event's bytes and nothing else (no parse,
no write, no checkpoint), on the same partition as the drain."""


def realistic_bodies(count: int) -> list[bytes]:
    """Distinct bodies of RECORDS_PER_EVENT generated records each (sign-ins, audit, risk...),
    the records of 24 event-time hours and ~20 categories mixed at random: the pessimistic layout
    ("spread"), in which every flush touches most of the ~500 (category, hour) groups."""
    result = generate(GeneratorOptions(records=count * RECORDS_PER_EVENT, hours=24, seed=11))
    records = result.records
    return [
        orjson.dumps({"records": records[i : i + RECORDS_PER_EVENT]})
        for i in range(0, len(records) - RECORDS_PER_EVENT + 1, RECORDS_PER_EVENT)
    ]


def ordered_bodies(count: int, backlog_records: int) -> list[bytes]:
    """The layout of a real backlog ("ordered"): Event Hubs holds events in enqueue order, which for
    Entra diagnostic settings is event-time order within minutes, and each event carries records of
    one category. The same generator's records, sorted by event time and packed per category into
    events of RECORDS_PER_EVENT as they fill; their time span is that of `count` events of a
    backlog of `backlog_records` over 24 hours (the bodies are cycled to make up the backlog)."""
    hours = 24 * min(1.0, count * RECORDS_PER_EVENT / max(1, backlog_records))
    result = generate(GeneratorOptions(records=count * RECORDS_PER_EVENT, hours=hours, seed=11))
    now = datetime.now(UTC)
    timed = sorted(
        ((fields.event_time, n), record)
        for n, (fields, record) in enumerate(
            (extract_record_fields(record, now), record) for record in result.records
        )
    )
    filling: dict[str, list[dict[str, object]]] = {}
    bodies = []
    for _, record in timed:
        members = filling.setdefault(str(record.get("category")), [])
        members.append(record)
        if len(members) == RECORDS_PER_EVENT:
            bodies.append(orjson.dumps({"records": members}))
            filling.pop(str(record.get("category")))
    bodies.extend(orjson.dumps({"records": members}) for members in filling.values())
    return bodies


def sign_in_bodies(records: int, hours: float) -> list[bytes]:
    """`records` distinct generated sign-ins, RECORDS_PER_EVENT per body."""
    generated = generate(GeneratorOptions(records=int(records * 1.6), hours=hours, seed=13))
    signins = [r for r in generated.records if str(r.get("category", "")).endswith("SignInLogs")]
    if len(signins) < records:
        raise SystemExit(f"the generator gave {len(signins):,} sign-ins, fewer than {records:,}")
    signins = signins[:records]
    return [
        orjson.dumps({"records": signins[i : i + RECORDS_PER_EVENT]})
        for i in range(0, len(signins), RECORDS_PER_EVENT)
    ]


def publish(
    conn: str, bodies: list[bytes], events: int, partition: str = "0", hub: str = HUB
) -> float:
    from azure.eventhub import EventData, EventHubProducerClient

    started = time.monotonic()
    with EventHubProducerClient.from_connection_string(conn, eventhub_name=hub) as producer:
        batch = producer.create_batch(partition_id=partition)
        for n in range(events):
            data = EventData(bodies[n % len(bodies)])
            try:
                batch.add(data)
            except ValueError:
                producer.send_batch(batch)
                batch = producer.create_batch(partition_id=partition)
                batch.add(data)
        producer.send_batch(batch)
    return time.monotonic() - started


def start_child(code: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def result_of(process: subprocess.Popen[str]) -> dict[str, float]:
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def child(code: str, env: dict[str, str], *args: str) -> dict[str, float]:
    return result_of(start_child(code, env, *args))


def per_record(figures: dict[str, float]) -> str:
    return f"{figures['cpu'] / figures['records'] * 1e6:.0f} us"


def line(name: str, figures: dict[str, float]) -> str:
    rate = figures["records"] / figures["seconds"]
    mbs = figures["bytes"] / figures["seconds"] / 1e6
    return (
        f"{name:9} {figures['records']:>10,.0f} records in {figures['seconds']:6.1f} s: "
        f"{rate:>8,.0f} records/s, {mbs:6.1f} MB/s, peak RSS {figures['rss_mb']:5.0f} MB"
    )


LAYOUT_PARTITIONS = {"spread": "0", "ordered": "3"}
"""Partition 0 holds the pessimistic backlog (also the ceiling's), 3 the realistic one; 1 and 2
the parallel drains'."""


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def measured(code: str, env: dict[str, str], *args: str) -> dict[str, float]:
    """A child's figures with the load average before and after it."""
    before = load_average()
    figures = child(code, env, *args)
    return {**figures, "load": f"{before}-{load_average()}"}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--baseline-records", type=int, default=200_000)
    parser.add_argument(
        "--layouts",
        default="spread,ordered",
        help="backlog layouts to drain, each on its own partition with the naive consumer on the "
        "same bodies: spread (24 hours x ~20 categories mixed in every event, the pessimistic "
        "case) and/or ordered (event-time order, one category per event, as a real backlog)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="drain and baseline alternated this many times"
    )
    parser.add_argument(
        "--parallel-records",
        type=int,
        default=200_000,
        help="records on each of two more partitions, drained at once by two processes "
        "(one Dagster run per partition); 0 to skip",
    )
    parser.add_argument(
        "--run-records",
        type=int,
        default=200_000,
        help="sign-ins on a 4-partition hub for `azlogs run` end to end; 0 to skip",
    )
    parser.add_argument("--run-hours", type=float, default=2.0)
    parser.add_argument("--no-ceiling", action="store_true", help="skip the discarding consumer")
    args = parser.parse_args()
    events = args.records // RECORDS_PER_EVENT
    layouts = [name for name in args.layouts.split(",") if name]

    with tempfile.TemporaryDirectory(prefix="azlogs-bench-") as tmp:
        work = Path(tmp)
        with local_stack(work, [HUB, RUN_HUB], partitions=4) as stack:
            conn = stack.eventhubs
            bodies = {"spread": realistic_bodies(min(events, 300))}
            if "ordered" in layouts:
                bodies["ordered"] = ordered_bodies(min(events, 300), args.records)
            for name in layouts:
                size = sum(map(len, bodies[name])) / len(bodies[name])
                print(
                    f"backlog ({name}): {events:,} events x {RECORDS_PER_EVENT} records, "
                    f"{size / 1e3:.0f} KB per event"
                )
                seconds = publish(conn, bodies[name], events, LAYOUT_PARTITIONS[name])
                print(f"published in {seconds:.1f} s ({events * size / seconds / 1e6:.0f} MB/s)")
            from azure.storage.blob import BlobServiceClient

            service = BlobServiceClient.from_connection_string(stack.storage)
            containers = ["ours", "run", "naive-run"] + [
                f"{who}-{name}-{n}"
                for who in ("ours", "baseline")
                for name in layouts
                for n in range(args.rounds)
            ]
            for name in containers:
                service.create_container(name)
            env = {
                "AZLOGS_EVENTHUB_CONNECTION_STRING": conn,
                "AZLOGS_EVENTHUB_NAME": HUB,
                "AZLOGS_STORAGE_CONNECTION_STRING": stack.storage,
                "AZLOGS_DATA_DIR": str(work / "data"),
            }
            ceiling = None
            if not args.no_ceiling and "spread" in layouts:
                ceiling = measured(DISCARD % RECORDS_PER_EVENT, env, str(events))
            figures: list[tuple[str, dict[str, float], dict[str, float]]] = []
            for n in range(args.rounds):
                for name in layouts:
                    partition = LAYOUT_PARTITIONS[name]
                    data = work / f"data-{name}-{n}"
                    ours = measured(
                        OURS,
                        {**env, "AZLOGS_STORAGE_CONTAINER": f"ours-{name}-{n}",
                         "AZLOGS_DATA_DIR": str(data)},
                        partition,
                    )  # fmt: skip
                    assert ours["events"] == events and ours["lag"] == 0, ours
                    shutil.rmtree(data, ignore_errors=True)
                    out = work / f"baseline-{name}-{n}"
                    out.mkdir()
                    base = measured(
                        BASELINE,
                        {**env, "AZLOGS_STORAGE_CONTAINER": f"baseline-{name}-{n}"},
                        str(args.baseline_records),
                        str(out),
                        HUB,
                        partition,
                    )
                    shutil.rmtree(out, ignore_errors=True)
                    figures.append((f"{name} #{n + 1}", ours, base))
            parallel = None
            if args.parallel_records:
                per_partition = args.parallel_records // RECORDS_PER_EVENT
                for pid in ("1", "2"):
                    publish(conn, bodies["spread"], per_partition, pid)
                started = time.monotonic()
                runs = [
                    start_child(OURS, {**env, "AZLOGS_STORAGE_CONTAINER": "ours"}, pid)
                    for pid in ("1", "2")
                ]
                results = [result_of(run) for run in runs]
                parallel = (sum(r["records"] for r in results), time.monotonic() - started)
            end_to_end = None
            if args.run_records:
                end_to_end = run_end_to_end(conn, env, work, args.run_records, args.run_hours)
    if ceiling is not None:
        print(line("ceiling", ceiling) + " (SDK receive, bytes discarded)")
        print(f"  (CPU time of the discarding consumer: {per_record(ceiling)} per record)")
    for name, ours, base in figures:
        print(f"layout {name}:")
        print(line("azlogs", ours))
        print(
            f"  (drain process: CPU {ours['cpu']:.1f} s, {per_record(ours)} per record, "
            f"{ours['files']:,.0f} files, {ours['files'] / ours['records'] * 1000:.1f} per 1,000 "
            f"records; load {ours['load']})"
        )
        print(line("baseline", base))
        print(
            f"  (baseline process: CPU {base['cpu']:.1f} s, {per_record(base)} per record; "
            f"load {base['load']})"
        )
        ratio = (ours["records"] / ours["seconds"]) / (base["records"] / base["seconds"])
        print(f"  ratio: azlogs is {ratio:.2f}x the baseline (records/s)")
        if ceiling is not None:
            reach = (ceiling["records"] / ceiling["seconds"]) / (base["records"] / base["seconds"])
            print(f"  the ceiling is {reach:.1f}x this baseline")
    if parallel:
        records, seconds = parallel
        print(
            f"two partitions drained at once (two processes): {records:,} records in "
            f"{seconds:.1f} s: {records / seconds:,.0f} records/s together"
        )
    if end_to_end:
        run_seconds, naive = end_to_end
        records = args.run_records
        print(
            f"azlogs run, {records:,} sign-ins on 4 partitions, end to end (drain, tables, "
            f"summaries): {run_seconds:.1f} s, {records / run_seconds:,.0f} records/s"
        )
        print(line("naive", naive) + " (drain alone, same hub)")
        rate = (records / run_seconds) / (naive["records"] / naive["seconds"])
        print(f"ratio: azlogs run end to end is {rate:.1f}x the naive consumer's drain alone")


def run_end_to_end(
    conn: str, env: dict[str, str], work: Path, records: int, hours: float
) -> tuple[float, dict[str, float]]:
    """`azlogs run` over RUN_HUB, then the naive consumer draining RUN_HUB alone."""
    bodies = sign_in_bodies(records, hours)
    for partition in range(4):
        part = bodies[partition::4]
        publish(conn, part, len(part), str(partition), RUN_HUB)
    run_env = {
        **os.environ,
        **env,
        "AZLOGS_EVENTHUB_NAME": RUN_HUB,
        "AZLOGS_STORAGE_CONTAINER": "run",
        "AZLOGS_DATA_DIR": str(work / "run-data"),
    }
    run_env.pop("DAGSTER_HOME", None)
    run_env["PYTHONUNBUFFERED"] = "1"  # lines as they come, to time the phases
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "azlogs_pipeline.cli", "run"],
        env=run_env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    phases: dict[str, float] = {}
    out: list[str] = []
    assert process.stdout is not None
    for text in process.stdout:
        out.append(text)
        if text.startswith("partition ") and "drains" not in phases:
            phases["drains"] = time.monotonic() - started
        elif text.startswith("Summaries and detections") and "builds" not in phases:
            phases["builds"] = time.monotonic() - started
    err = process.stderr.read() if process.stderr else ""
    process.wait()
    seconds = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"azlogs run failed:\n{''.join(out)[-2000:]}\n{err[-3000:]}")
    drains = phases.get("drains", seconds)
    builds = phases.get("builds", seconds)
    print(
        f"azlogs run phases: drains (with start-up) {drains:.1f} s, builds {builds - drains:.1f} s, "
        f"reports, alerts and the printed report {seconds - builds:.1f} s"
    )
    (work / "naive-run").mkdir()
    naive = child(
        BASELINE,
        {**env, "AZLOGS_STORAGE_CONTAINER": "naive-run"},
        str(records),
        str(work / "naive-run"),
        RUN_HUB,
    )
    return seconds, naive


if __name__ == "__main__":
    main()
