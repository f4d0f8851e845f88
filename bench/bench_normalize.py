"""Normalization benchmark: one event-time hour of raw sign-in records -> `signin_logs`.

Lands N generated sign-in records in one hour of a temporary raw lake, then measures:

- azlogs: `build_hour(..., ["signin_logs"])` (parse, type, dedupe, write Parquet atomically);
- floor: DuckDB scanning the same raw Parquet and parsing each JSON record once, no output;
- baseline: pandas `json_normalize` of the same records to Parquet.

Prints records/s for each, peak RSS of this process, and the ratios.

    .venv/bin/python bench/bench_normalize.py [--records 200000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from azlogs_pipeline.ingest.batch import RawBatchWriter  # noqa: E402
from azlogs_pipeline.lake.paths import raw_root  # noqa: E402
from azlogs_pipeline.local.generator import GeneratorOptions, generate  # noqa: E402
from azlogs_pipeline.normalize.hour import build_hour  # noqa: E402

HOUR = datetime(2026, 11, 20, 10, tzinfo=UTC)


def signin_records(count: int) -> list[dict[str, object]]:
    """`count` distinct generated sign-ins, all moved into one hour."""
    records: list[dict[str, object]] = []
    seed = 1
    while len(records) < count:
        generated = generate(GeneratorOptions(records=count, hours=1, seed=seed, start=HOUR))
        for record in generated.records:
            props = record.get("properties")
            if str(record.get("category", "")).endswith("SignInLogs") and isinstance(props, dict):
                minute = len(records) % 60
                props = {
                    **props,
                    "createdDateTime": f"2026-11-20T10:{minute:02d}:00Z",
                    "id": f"bench-{len(records)}",
                }
                records.append({**record, "properties": props})
        seed += 1
    return records[:count]


def land(data_dir: Path, records: list[dict[str, object]]) -> None:
    writer = RawBatchWriter(data_dir, "bench", "0")
    for seq, start in enumerate(range(0, len(records), 100)):
        body = orjson.dumps({"records": records[start : start + 100]})
        writer.add_event(body, sequence_number=seq, offset=str(seq), enqueued_time=HOUR)
        if writer.is_full:
            writer.flush()
    writer.flush()


def floor(data_dir: Path) -> float:
    import duckdb

    glob = str(raw_root(data_dir) / "**" / "*.parquet")
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute(
            "SELECT count(json_extract_string(record, '$.properties.id')) FROM read_parquet($glob)",
            {"glob": glob},
        ).fetchall()
    return time.perf_counter() - started


def pandas_baseline(records: list[dict[str, object]], out: Path) -> float:
    import pandas as pd

    started = time.perf_counter()
    frame = pd.json_normalize(records)
    frame = frame.astype(str)
    frame.to_parquet(out)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    records = signin_records(args.records)
    with tempfile.TemporaryDirectory(prefix="azlogs-bench-") as tmp:
        data_dir = Path(tmp)
        land(data_dir, records)
        started = time.perf_counter()
        result = build_hour(data_dir, HOUR, ["signin_logs"])["signin_logs"]
        ours = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        floor_seconds = floor(data_dir)
        base = pandas_baseline(records, data_dir / "pandas.parquet")
    n = len(records)
    print(
        f"azlogs build_hour(signin_logs): {n:,} records -> {result.rows:,} rows in {ours:.1f} s: "
        f"{n / ours:,.0f} records/s (peak RSS {rss:.0f} MB)"
    )
    print(
        f"floor (DuckDB scan + one JSON parse): {n / floor_seconds:,.0f} records/s; "
        f"azlogs is {floor_seconds / ours:.2f}x the floor's speed"
    )
    print(
        f"baseline (pandas json_normalize): {n / base:,.0f} records/s; "
        f"azlogs is {base / ours:.1f}x the baseline"
    )


if __name__ == "__main__":
    main()
