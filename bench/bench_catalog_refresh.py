"""The catalog refresh at the start of every run (`catalog.refresh_catalog`), in a fresh process
as a drain's run has it, on a lake that already has its schema seeds, against the baseline of
what the drain did before: every table's and summary's schema (their SQL over empty inputs) and
then the same catalog check.

Prints the seconds of each (median of RUNS fresh processes), the ratio and the machine load.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = 5
REFRESH = """
import sys, time
from pathlib import Path
from azlogs_pipeline.catalog import refresh_catalog
start = time.perf_counter()
refresh_catalog(Path(sys.argv[1]))
print(time.perf_counter() - start)
"""
BASELINE = """
import sys, time
from pathlib import Path
from azlogs_pipeline.catalog import ensure_catalog
from azlogs_pipeline.normalize.schemas import table_schemas
from azlogs_pipeline.summarize.build import catalog_views, summary_schemas
start = time.perf_counter()
ensure_catalog(Path(sys.argv[1]), table_schemas(), summary_schemas(), catalog_views())
print(time.perf_counter() - start)
"""


def seconds(code: str, data_dir: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)], check=True, capture_output=True, text=True
    ).stdout
    return float(out.split()[-1])


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        seconds(REFRESH, data_dir)  # the first run of a data dir writes the seeds and the catalog
        refresh = statistics.median(seconds(REFRESH, data_dir) for _ in range(RUNS))
        baseline = statistics.median(seconds(BASELINE, data_dir) for _ in range(RUNS))
    load = os.getloadavg()[0]
    print(f"refresh_catalog on a seeded lake: {refresh:.3f} s (median of {RUNS} processes)")
    print(f"baseline, every schema computed first: {baseline:.3f} s")
    print(f"ratio: {baseline / refresh:.0f}x less time per run (load average {load:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
