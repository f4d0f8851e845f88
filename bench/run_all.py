"""`make bench`: every benchmark in turn (each prints its figure, its baseline and the ratio)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "bench_emulator.py",
    "bench_ingest_core.py",
    "bench_drain.py",
    "bench_parallel_drains.py",
    "bench_normalize.py",
    "bench_lake_azure.py",
    "bench_detections.py",
    "bench_catalog_refresh.py",
]


def main() -> int:
    failed = 0
    for name in BENCHES:
        print(f"\n=== {name}", flush=True)
        failed += subprocess.call([sys.executable, str(HERE / name)]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
