"""The lake in Azure Storage (Azurite) against the local disk: one drain and one hour build each.

Publishes the same backlog of generated records to two partitions of the local Event Hubs
emulator, then, each in its own process:

- drains partition 0 into a local lake and partition 1 into a lake in Azurite (`AZLOGS_LAKE_URL`):
  records/s of each and the ratio;
- builds every table of the busiest event-time hour from each lake (`build_hour`): seconds of each
  and the ratio.

Azurite runs on the same cores, over loopback HTTP; a storage account adds network latency and
bandwidth instead, so the ratio is what the blob path costs in CPU and requests, not a forecast.

    .venv/bin/python bench/bench_lake_azure.py [--records 200000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_drain import HUB, OURS, RECORDS_PER_EVENT, child, line, publish, realistic_bodies  # noqa: E402
from common import local_stack  # noqa: E402

BUILD = """
import json, sys, time
from datetime import datetime
from pathlib import Path
from azlogs_pipeline.normalize.hour import build_hour
data_dir = Path(sys.argv[1])
hour = datetime.fromisoformat(sys.argv[2])
started = time.monotonic()
results = build_hour(data_dir, hour)
print(json.dumps({"seconds": time.monotonic() - started,
                  "rows": sum(r.rows for r in results.values()),
                  "files": sum(r.files for r in results.values())}))
"""

BUSIEST_HOUR = """
import json, sys
from pathlib import Path
from azlogs_pipeline.lake.storage import lake_connect
from azlogs_pipeline.lake.paths import raw_root
with lake_connect() as con:
    row = con.execute(
        "SELECT date_trunc('hour', event_time) AS h, count(*) FROM read_parquet($g) "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
        {"g": str(raw_root(Path(sys.argv[1])) / "**" / "*.parquet")},
    ).fetchone()
print(json.dumps({"hour": row[0].isoformat(), "records": row[1]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    events = args.records // RECORDS_PER_EVENT
    with tempfile.TemporaryDirectory(prefix="azlogs-bench-lake-") as tmp:
        work = Path(tmp)
        with local_stack(work, [HUB], partitions=2) as stack:
            conn = stack.eventhubs
            bodies = realistic_bodies(min(events, 300))
            for partition in ("0", "1"):
                publish(conn, bodies, events, partition)
            storage = stack.storage
            base = {
                "AZLOGS_EVENTHUB_CONNECTION_STRING": conn,
                "AZLOGS_EVENTHUB_NAME": HUB,
                "AZLOGS_STORAGE_CONNECTION_STRING": storage,
            }
            disk = {
                **base,
                "AZLOGS_DATA_DIR": str(work / "disk"),
                "AZLOGS_STORAGE_CONTAINER": "disk",
            }
            blob_env = {
                **base,
                "AZLOGS_DATA_DIR": str(work / "blob"),
                "AZLOGS_STORAGE_CONTAINER": "blob",
                "AZLOGS_LAKE_URL": "az://lake/bench",
            }
            drain_disk = child(OURS, disk, "0")
            drain_blob = child(OURS, blob_env, "1")
            for figures in (drain_disk, drain_blob):
                assert figures["records"] == events * RECORDS_PER_EVENT and figures["lag"] == 0
            busiest = child(BUSIEST_HOUR, disk, str(work / "disk"))
            build_disk = child(BUILD, disk, str(work / "disk"), busiest["hour"])
            build_blob = child(BUILD, blob_env, str(work / "blob"), busiest["hour"])
            assert build_disk["rows"] == build_blob["rows"], (build_disk, build_blob)
    print(line("disk", drain_disk))
    print(line("Azurite", drain_blob))
    ratio = (drain_blob["records"] / drain_blob["seconds"]) / (
        drain_disk["records"] / drain_disk["seconds"]
    )
    print(f"drain ratio: the lake in Azurite drains at {ratio:.2f}x the local disk (records/s)")
    print(
        f"hour build ({busiest['hour']}, {busiest['records']:,} raw records, all tables): "
        f"disk {build_disk['seconds']:.2f} s, Azurite {build_blob['seconds']:.2f} s "
        f"({build_disk['rows']:,} rows, {build_blob['files']} raw files read)"
    )
    print(
        f"build ratio: Azurite takes {build_blob['seconds'] / build_disk['seconds']:.2f}x "
        "the local disk's time"
    )


if __name__ == "__main__":
    main()
