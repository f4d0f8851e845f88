"""Normalization benchmark: one event-time hour of raw sign-in records -> `signin_logs`.

Lands N generated sign-in records in one hour of a temporary raw lake, then measures:

- azlogs: `build_hour(..., ["signin_logs"])` (parse, type, dedupe, write Parquet atomically);
- floor: DuckDB scanning the same raw Parquet and parsing each JSON record once into the fields
  `signin_logs` extracts (`json_transform` with the table's own structure), no output;
- baseline: pandas `json_normalize` of the same records to Parquet.

Prints records/s for each (wall), the CPU seconds of the build and of the floor (both one DuckDB
thread at the default budget: on a shared machine the CPU ratio is the steadier one), the build
process's peak RSS, the ratios, and the load average before and after.

    .venv/bin/python bench/bench_normalize.py [--records 1000000] [--per-hour 200000]
        [--budgets 1024,4096] [--resent-every K] [--lake DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from azlogs_pipeline.config import load_build_memory_mb  # noqa: E402
from azlogs_pipeline.ingest.batch import RawBatchWriter  # noqa: E402
from azlogs_pipeline.lake.paths import raw_root  # noqa: E402
from azlogs_pipeline.local.generator import GeneratorOptions, generate  # noqa: E402
from azlogs_pipeline.normalize.hour import connect  # noqa: E402
from azlogs_pipeline.normalize.tables import table_spec  # noqa: E402

HOUR = datetime(2026, 11, 20, 10, tzinfo=UTC)
LAND_CHUNK = 50_000


def signin_records(
    count: int, hour: datetime, first: int, resent_every: int = 0
) -> list[dict[str, object]]:
    """`count` generated sign-ins (ids from `first`), all moved into `hour`; with `resent_every`
    K, every K-th record is another version of the sign-in before it (its id, other content), as
    Azure sends risk copies and Conditional Access splits."""
    records: list[dict[str, object]] = []
    seed = 1 + first
    while len(records) < count:
        generated = generate(GeneratorOptions(records=count, hours=1, seed=seed, start=hour))
        for record in generated.records:
            props = record.get("properties")
            if str(record.get("category", "")).endswith("SignInLogs") and isinstance(props, dict):
                minute = len(records) % 60
                props = {
                    **props,
                    "createdDateTime": f"{hour:%Y-%m-%dT%H}:{minute:02d}:00Z",
                    "id": f"bench-{_signin_number(first + len(records), resent_every)}",
                }
                records.append({**record, "properties": props})
        seed += 1
    return records[:count]


def _signin_number(record: int, resent_every: int) -> int:
    return record - 1 if resent_every and record % resent_every == resent_every - 1 else record


def land(data_dir: Path, records: list[dict[str, object]], hour: datetime, first_seq: int) -> None:
    writer = RawBatchWriter(data_dir, "bench", "0")
    for seq, start in enumerate(range(0, len(records), 100), start=first_seq):
        body = orjson.dumps({"records": records[start : start + 100]})
        writer.add_event(body, sequence_number=seq, offset=str(seq), enqueued_time=hour)
        if writer.is_full:
            writer.flush()
    writer.flush()


def signin_structure() -> str:
    """The json_transform structure literal signin_logs.sql parses each record into."""
    found = re.search(
        r"parse_record\(\s*r\.record,\s*('(?:[^']|'')*')\s*\)", table_spec("signin_logs").sql()
    )
    if found is None:
        raise SystemExit(
            "signin_logs.sql no longer calls parse_record(r.record, '...'): update the floor"
        )
    return found.group(1)


def cpu_seconds() -> float:
    """User + system CPU of this process so far (all its threads: DuckDB's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def floor(data_dir: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the floor query."""
    glob = str(raw_root(data_dir) / "**" / "*.parquet")
    with connect() as con:
        started, cpu = time.perf_counter(), cpu_seconds()
        con.execute(
            f"SELECT count(json_transform(record, {signin_structure()}).properties.id) "
            "FROM read_parquet($glob)",
            {"glob": glob},
        ).fetchall()
        return time.perf_counter() - started, cpu_seconds() - cpu


def pandas_baseline(records: list[dict[str, object]], out: Path) -> float:
    import pandas as pd

    started = time.perf_counter()
    frame = pd.json_normalize(records)
    frame = frame.astype(str)
    frame.to_parquet(out)
    return time.perf_counter() - started


BUILD_IN_CHILD = """
import json, resource, sys, time
from datetime import datetime
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from azlogs_pipeline.normalize.hour import build_hour
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
started, cpu_started = time.perf_counter(), cpu()
rows = 0
for hour in sys.argv[3:]:
    rows += build_hour(Path(sys.argv[2]), datetime.fromisoformat(hour), ["signin_logs"])["signin_logs"].rows
seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps([seconds, cpu_seconds, rows, peak_kb / 1024]))
"""


def build_in_child(
    data_dir: Path, hours: list[datetime], budget_mb: int | None
) -> tuple[float, float, int, float]:
    """build_hour of each hour in a fresh process under the budget (None: the setting as it is):
    (seconds, CPU seconds, rows, peak RSS in MB of that process: its VmHWM, since the ru_maxrss
    of a spawned process starts at its parent's peak, the landing's)."""
    env = dict(os.environ)
    if budget_mb is not None:
        env["AZLOGS_BUILD_MEMORY_MB"] = str(budget_mb)
    done = subprocess.run(
        [sys.executable, "-c", BUILD_IN_CHILD, str(ROOT), str(data_dir)]
        + [hour.isoformat() for hour in hours],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"the build failed:\n{done.stderr}")
    seconds, cpu, rows, rss = json.loads(done.stdout)
    return seconds, cpu, rows, rss


def load() -> str:
    return "/".join(f"{figure:.1f}" for figure in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--per-hour", type=int, default=200_000, help="sign-ins in each hour")
    parser.add_argument(
        "--baseline-records",
        type=int,
        default=200_000,
        help="records given to the pandas baseline (it holds them all in memory)",
    )
    parser.add_argument(
        "--budgets",
        default="",
        help="AZLOGS_BUILD_MEMORY_MB values to build under, in turn (default: the setting)",
    )
    parser.add_argument(
        "--resent-every",
        type=int,
        default=0,
        help="make every K-th record another version of the sign-in before it (0: none)",
    )
    parser.add_argument(
        "--lake",
        type=Path,
        help="a data dir to land into once and reuse (default: a temporary one)",
    )
    args = parser.parse_args()
    n = args.records
    hours = [HOUR + timedelta(hours=h) for h in range(math.ceil(n / args.per_hour))]
    budgets: list[int | None] = [int(b) for b in args.budgets.split(",") if b] or [None]
    with tempfile.TemporaryDirectory(prefix="azlogs-bench-") as tmp:
        data_dir = args.lake or Path(tmp)
        sample: list[dict[str, object]] = []
        landed = (data_dir / "landed").is_file()
        for index, hour in enumerate(hours):
            hour_first = index * args.per_hour
            hour_end = min(hour_first + args.per_hour, n)
            for first in range(hour_first, hour_end, LAND_CHUNK):  # this process stays small
                if landed and len(sample) >= args.baseline_records:
                    break
                records = signin_records(
                    min(LAND_CHUNK, hour_end - first), hour, first, args.resent_every
                )
                if not landed:
                    land(data_dir, records, hour, first // 100)
                sample.extend(records[: args.baseline_records - len(sample)])
                del records
        (data_dir / "landed").touch()
        load_before = load()
        builds = [(budget, *build_in_child(data_dir, hours, budget)) for budget in budgets]
        floor_seconds, floor_cpu = floor(data_dir)
        load_after = load()
        base = pandas_baseline(sample, Path(tmp) / "pandas.parquet")
    for budget, ours, cpu, rows, rss in builds:
        print(
            f"azlogs build_hour(signin_logs): {n:,} records in {len(hours)} hours -> {rows:,} rows "
            f"in {ours:.1f} s (CPU {cpu:.1f} s): {n / ours:,.0f} records/s, peak RSS of the "
            f"building process {rss:,.0f} MB "
            f"(AZLOGS_BUILD_MEMORY_MB={budget or load_build_memory_mb()}); "
            f"{floor_seconds / ours:.2f}x the floor's speed ({floor_cpu / cpu:.2f}x by CPU), "
            f"{(n / ours) / (len(sample) / base):.1f}x the baseline's"
        )
    print(
        "floor (DuckDB scan + one json_transform per record to the table's fields): "
        f"{n / floor_seconds:,.0f} records/s (CPU {floor_cpu:.1f} s: "
        f"{n / floor_cpu:,.0f} records per CPU second)"
    )
    print(
        f"load average (1/5/15 min) before the builds {load_before}, after the floor {load_after}"
    )
    print(
        f"baseline (pandas json_normalize, {len(sample):,} records): {len(sample) / base:,.0f} "
        "records/s"
    )


if __name__ == "__main__":
    main()
