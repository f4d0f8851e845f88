"""Many sparse hours against the same number of records in one hour, raw lake -> every table and
every summary, the way `azlogs run` builds (issue 9, Build 5).

Generates about `--records` records (2,000 by default) spread over `--days` days (14: 336 hours),
lands them in the raw lake of a fresh data dir, and times `runner.build_pending` (what the lake
says needs building, in ranged Dagster runs of up to 24 hours, then the summaries their
look-backs reach, then the days). The baseline is the same generator's records of one hour (same
count and mix), built the same way in another fresh data dir. Prints both, the ratio, and the
Dagster runs each made.

    .venv/bin/python bench/bench_sparse_hours.py [--records 2000] [--days 14]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START = datetime(2026, 11, 1, tzinfo=UTC)
FAKE_HUB = (
    "Endpoint=sb://bench.invalid/;SharedAccessKeyName=bench;SharedAccessKey=YmVuY2g=;"
    "EntityPath=adlogs"
)


def land(data_dir: Path, records: int, hours: int) -> int:
    """Generate `records` over `hours` from START and land them; the records landed."""
    from azlogs_pipeline.ingest.batch import RawBatchWriter
    from azlogs_pipeline.local.generator import GeneratorOptions, generate

    generated = generate(GeneratorOptions(records=records, hours=hours, seed=9, start=START))
    enqueued = START + timedelta(hours=hours)
    writer = RawBatchWriter(data_dir, "adlogs", "0", clock=lambda: enqueued)
    for seq, body in enumerate(generated.bodies):
        writer.add_event(body, sequence_number=seq, offset=str(seq), enqueued_time=enqueued)
    writer.flush()
    return len(generated.records)


def build(data_dir: Path) -> tuple[float, int, int, bool]:
    """`build_pending` from scratch: (seconds, runs, table hours built, all succeeded)."""
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
    hours = len(lake_plan(settings.data_dir).table_hours)
    with open_instance(settings.data_dir) as instance:
        started = time.perf_counter()
        runs = build_pending(instance, settings.data_dir)
        seconds = time.perf_counter() - started
        left = lake_plan(settings.data_dir)
    ok = all(run.success for run in runs) and not left.table_hours
    return seconds, len(runs), hours, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()
    os.environ.setdefault("AZLOGS_PARTITION_START", START.strftime("%Y-%m-%d"))
    with tempfile.TemporaryDirectory(prefix="azlogs-sparse-") as tmp:
        sparse_dir, dense_dir = Path(tmp) / "sparse", Path(tmp) / "dense"
        sparse_records = land(sparse_dir, args.records, args.days * 24)
        dense_records = land(dense_dir, args.records, 1)
        sparse = build(sparse_dir)
        dense = build(dense_dir)
    load = os.getloadavg()[0]
    for name, records, (seconds, runs, hours, ok) in (
        (f"{args.days * 24} sparse hours", sparse_records, sparse),
        ("one hour (baseline)", dense_records, dense),
    ):
        print(
            f"{name}: {records:,} records, {hours} table hours -> every table and summary in "
            f"{seconds:.1f} s, {runs} Dagster runs{'' if ok else ' (FAILED or left work)'}"
        )
    print(f"ratio: {sparse[0] / dense[0]:.1f}x the one-hour build's time (load average {load:.1f})")


if __name__ == "__main__":
    main()
