"""What the Dagster instance's event log costs a ranged build: the same sparse hours built by
`runner.build_pending` with Dagster's own SQLite storage (the baseline), with azlogs'
`instance_storage.LakeSqliteStorage` (what `azlogs run` and `make ui` use), and optionally with
PostgreSQL (the embedded server of the tests, `--postgres`).

Lands `--records` generated records (143 by default: 2,000 over 14 days, per day) over `--hours`
hours (24) into a fresh data dir per storage, builds every table and summary, and prints per
storage: seconds, Dagster runs, events recorded, and the ratio to the baseline.

    .venv/bin/python bench/bench_instance_events.py [--hours 24] [--records 143] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_sparse_hours import SEED, START  # noqa: E402
from common import build_pending_timed, land_generated  # noqa: E402

Yaml = Callable[[Path], str]


def build(data_dir: Path, home: Path, yaml: Yaml) -> tuple[float, int, int, bool]:
    """`build_pending` on an instance in `home` written by `yaml`: (seconds, runs, events, ok)."""
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(yaml(home))
    os.environ["DAGSTER_HOME"] = str(home)
    built = build_pending_timed(data_dir)
    return built.seconds, built.runs, built.events, built.ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--records", type=int, default=143)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("AZLOGS_PARTITION_START", START.strftime("%Y-%m-%d"))
    from azlogs_pipeline.config import DagsterPostgres
    from azlogs_pipeline.instance import PROJECT_DAGSTER_YAML, instance_yaml

    storages: dict[str, Yaml] = {
        "Dagster's SQLite storage (baseline)": lambda _home: PROJECT_DAGSTER_YAML.read_text(),
        "azlogs LakeSqliteStorage": lambda home: instance_yaml(None, home),
    }
    with ExitStack() as stack:
        if args.postgres:
            from azlogs_pipeline_tests.dagster_service.postgres import running_postgres

            server = stack.enter_context(running_postgres())
            os.environ["BENCH_PG_URL"] = server.url()
            postgres = DagsterPostgres(url_variable="BENCH_PG_URL", fields=(), address=None)
            storages["PostgreSQL (dagster-postgres)"] = lambda home: instance_yaml(postgres, home)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="azlogs-events-")))
        results = {}
        for number, (name, yaml) in enumerate(storages.items()):
            data_dir = tmp / f"lake-{number}"
            records = land_generated(data_dir, args.records, args.hours, seed=SEED, start=START)
            results[name] = build(data_dir, tmp / f"home-{number}", yaml)
    load = os.getloadavg()[0]
    baseline = next(iter(results.values()))[0]
    print(f"{records:,} records over {args.hours} hours, raw lake -> every table and summary:")
    for name, (seconds, runs, events, ok) in results.items():
        print(
            f"  {name}: {seconds:.1f} s, {runs} Dagster runs, {events:,} events, "
            f"{seconds / baseline:.2f}x the baseline{'' if ok else ' (FAILED or left work)'}"
        )
    print(f"(load average {load:.1f})")


if __name__ == "__main__":
    main()
