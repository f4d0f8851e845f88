"""Build cost per hour of the detection families added by issue 12, against the older summaries.

Generates `--records` records over `--hours` hours (every category, every injected scenario),
lands them as the drain does, builds every table of every hour, then builds the summaries of the
last 24 hours, hour by hour in the order `azlogs run` builds them (each hour: every summary in
turn, so the old and the new families are timed at the same moments of a noisy machine):

- baseline: the older hourly summaries, `signin_summary` + `signin_detections` (14-day look-back);
- new: `feed_health` (every table), `directory_detections` (24 h), `session_detections` (14 days
  of sign-ins + signin_detections), `feed_detections` (8 days of activity logs + feed_health).

Prints seconds per hour for each summary, the sums, the ratio new / baseline, and the load.

    .venv/bin/python bench/bench_detections.py [--records 30000] [--hours 48]
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
sys.path.insert(0, str(ROOT / "bench"))

from common import land_generated  # noqa: E402

from azlogs_pipeline.normalize.hour import build_hour  # noqa: E402
from azlogs_pipeline.summarize import build_summary  # noqa: E402

START = datetime(2026, 11, 20, tzinfo=UTC)
BASELINE = ("signin_summary", "signin_detections")
FLUSH_EVERY = 500
"""Events per flush while landing, as a drain flushes: bounded batches."""
NEW = ("feed_health", "directory_detections", "session_detections", "feed_detections")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--hours", type=int, default=48)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_detections_") as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        count = land_generated(
            data_dir, args.records, args.hours, seed=7, start=START, flush_every=FLUSH_EVERY
        )
        print(f"landed in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        hours = [START + timedelta(hours=h) for h in range(args.hours)]
        for hour in hours:
            build_hour(data_dir, hour)
        tables = (time.perf_counter() - started) / len(hours)
        print(f"{count:,} records over {args.hours} hours; every table of an hour: {tables:.2f} s")
        print(f"({load()} at the start of the summaries)", flush=True)
        seconds = dict.fromkeys((*BASELINE, *NEW), 0.0)
        rows = dict.fromkeys(seconds, 0)
        measured = hours[-24:]
        for hour in measured:
            for name in seconds:
                began = time.perf_counter()
                rows[name] += build_summary(data_dir, name, hour).rows
                seconds[name] += time.perf_counter() - began
    print(f"\nper hour, the last {len(measured)} hours (each reading its look-back):")
    for name, total in seconds.items():
        print(f"  {name:22} {total / len(measured):6.3f} s   {rows[name]:>6} rows in all")
    baseline = sum(seconds[n] for n in BASELINE) / len(measured)
    new = sum(seconds[n] for n in NEW) / len(measured)
    print(f"baseline (signin_summary + signin_detections): {baseline:.3f} s per hour")
    print(f"new families (feed_health + 3 detection families): {new:.3f} s per hour")
    print(f"ratio new / baseline: {new / baseline:.2f}x; {load()} at the end")


if __name__ == "__main__":
    main()
