"""Many sparse hours against the same number of records in one hour, raw lake -> every table and
every summary, the way `azlogs run` builds (issue 9, Build 5).

Generates about `--records` records (2,000 by default) spread over `--days` days (14: 336 hours),
lands them in the raw lake of a fresh data dir, and times `runner.build_pending` (what the lake
says needs building, in ranged Dagster runs, then the summaries their
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
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import build_pending_timed, land_generated  # noqa: E402

START = datetime(2026, 11, 1, tzinfo=UTC)
SEED = 9


def build(data_dir: Path) -> tuple[float, int, int, bool, float, float]:
    """`build_pending` from scratch: (seconds, runs, table hours built, all succeeded, CPU
    seconds, load average when it ended)."""
    from azlogs_pipeline.runner import lake_plan

    hours = len(lake_plan(data_dir).table_hours)
    built = build_pending_timed(data_dir)
    return built.seconds, built.runs, hours, built.ok, built.cpu_seconds, os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()
    os.environ.setdefault("AZLOGS_PARTITION_START", START.strftime("%Y-%m-%d"))
    with tempfile.TemporaryDirectory(prefix="azlogs-sparse-") as tmp:
        sparse_dir, dense_dir = Path(tmp) / "sparse", Path(tmp) / "dense"
        sparse_records = land_generated(
            sparse_dir, args.records, args.days * 24, seed=SEED, start=START
        )
        dense_records = land_generated(dense_dir, args.records, 1, seed=SEED, start=START)
        load = os.getloadavg()[0]
        sparse = build(sparse_dir)
        dense = build(dense_dir)
    print(f"load average (1 min) before the builds: {load:.1f}")
    for name, records, (seconds, runs, hours, ok, cpu, after) in (
        (f"{args.days * 24} sparse hours", sparse_records, sparse),
        ("one hour (baseline)", dense_records, dense),
    ):
        print(
            f"{name}: {records:,} records, {hours} table hours -> every table and summary in "
            f"{seconds:.1f} s ({cpu:.1f} s CPU), {runs} Dagster runs, load after {after:.1f}"
            f"{'' if ok else ' (FAILED or left work)'}"
        )
    print(
        f"ratio: {sparse[0] / dense[0]:.1f}x the one-hour build's time, "
        f"{sparse[4] / dense[4]:.1f}x its CPU time"
    )


if __name__ == "__main__":
    main()
