"""`plan_builds` ("which hours need building") over 90 days x 25 categories of lake directories.

Builds a lake of 2,160 event-time hours with a raw file in each of 25 categories per hour (54,000
raw directories; the files hold a few bytes: `plan_builds` lists and stats, it never reads Parquet),
marks every table hour and summary partition built (their manifests), then times:

- `plan_builds` with nothing to do (the sensor's every tick), and with one late file added;
- the baseline: one plain `os.walk` over the same lake (every directory listed once), the floor of
  any answer that comes from listings.

Usage: python bench/bench_reconcile.py [--days 90] [--categories 25]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azlogs_pipeline.lake.builds import INPUTS_PREFIX, INPUTS_SUFFIX
from azlogs_pipeline.lake.paths import (
    raw_hour_dir,
    summary_day_file,
    summary_hour_file,
    table_hour_dir,
)
from azlogs_pipeline.lake.reconcile import BuildPlan, plan_builds
from azlogs_pipeline.normalize.tables import TABLES
from azlogs_pipeline.summarize.build import summary_window_digest
from azlogs_pipeline.summarize.specs import DAY_GRAIN, SUMMARIES

START = datetime(2025, 1, 1, tzinfo=UTC)


def categories(count: int) -> list[str]:
    names = [c for spec in TABLES for c in spec.categories]
    names += [f"ExtraCategory{i}" for i in range(max(0, count - len(names)))]
    return names[:count]


def make_lake(root: Path, hours: int, category_names: list[str]) -> None:
    for h in range(hours):
        hour = START + timedelta(hours=h)
        for category in category_names:
            directory = raw_hour_dir(root, category, hour)
            directory.mkdir(parents=True)
            (directory / f"adlogs-0-{h}-{h}.parquet").write_bytes(b"x" * (100 + h % 7))


def mark_built(root: Path) -> None:
    """Write the manifests a build would leave: table hours first, then summary partitions."""
    from azlogs_pipeline.lake.reconcile import expected_table_digests

    for table, digests in expected_table_digests(root).items():
        for key, digest in digests.items():
            hour = datetime.strptime(key, "%Y-%m-%d-%H").replace(tzinfo=UTC)
            directory = table_hour_dir(root, table, hour)
            directory.mkdir(parents=True, exist_ok=True)
            (directory / f"{INPUTS_PREFIX}{digest}{INPUTS_SUFFIX}").write_bytes(b"{}")
    for _ in range(3):  # a summary that reads another is ready once that one is marked
        _mark_ready_summaries(root)


def _mark_ready_summaries(root: Path) -> None:
    plan = plan_builds(root, START, START + timedelta(days=400))
    while plan.summary_partitions:  # in rounds: a summary that reads another waits for it
        _mark_summaries(root, plan)
        plan = plan_builds(root, START, START + timedelta(days=400))


def _mark_summaries(root: Path, plan: BuildPlan) -> None:
    for spec in SUMMARIES:
        for key in plan.summary_partitions.get(spec.name, ()):
            daily = spec.grain == DAY_GRAIN
            moment = datetime.strptime(key, "%Y-%m-%d" if daily else "%Y-%m-%d-%H")
            moment = moment.replace(tzinfo=UTC)
            path = summary_day_file if daily else summary_hour_file
            directory = path(root, spec.name, moment).parent
            directory.mkdir(parents=True, exist_ok=True)
            digest = summary_window_digest(root, spec, key)
            (directory / f"{INPUTS_PREFIX}{digest}{INPUTS_SUFFIX}").write_bytes(b"{}")


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def walk(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--categories", type=int, default=25)
    args = parser.parse_args()
    hours = args.days * 24
    with tempfile.TemporaryDirectory(prefix="bench_reconcile_") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        make_lake(root, hours, categories(args.categories))
        mark_built(root)
        print(
            f"lake of {hours} hours x {args.categories} categories made in "
            f"{time.perf_counter() - started:.0f} s"
        )
        end = START + timedelta(hours=hours)
        plan = plan_builds(root, START, end)
        assert not plan.table_hours and not plan.summary_partitions, "all built"
        idle = timed(lambda: plan_builds(root, START, end))
        late = raw_hour_dir(root, categories(1)[0], START + timedelta(hours=5))
        (late / "adlogs-0-late-late.parquet").write_bytes(b"late")
        changed = plan_builds(root, START, end)
        assert changed.table_hours == ((START + timedelta(hours=5)).strftime("%Y-%m-%d-%H"),)
        one_late = timed(lambda: plan_builds(root, START, end))
        files = walk(root)
        baseline = timed(lambda: walk(root))
    print(f"plan_builds, nothing to build: {idle:.2f} s")
    print(
        f"plan_builds, one late file:    {one_late:.2f} s "
        f"({changed.waiting_summaries} summary partitions then wait for it)"
    )
    print(f"baseline os.walk of the lake ({files:,} files): {baseline:.2f} s")
    print(f"ratio plan_builds / os.walk: {idle / baseline:.1f}x")


if __name__ == "__main__":
    main()
