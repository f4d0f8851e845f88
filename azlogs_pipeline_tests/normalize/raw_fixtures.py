"""Write hand-made records into a raw lake exactly as the drain lands them (RawBatchWriter).

Each record becomes its own Event Hubs event (`{"records": [record]}`), so every record gets its
own sequence number. Sequence numbers continue after the highest one already in the lake for the
same hub and partition, so calling `write_raw` twice with the same records lands them twice (a
redelivery), which is what duplicate tests need.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq

from azlogs_pipeline.ingest.batch import FlushSummary, RawBatchWriter
from azlogs_pipeline.lake.paths import raw_root, safe_name

DEFAULT_HUB = "insights-logs-test"
DEFAULT_PARTITION = "0"
DEFAULT_ENQUEUED = datetime(2025, 3, 1, 12, 5, tzinfo=UTC)
INGESTED_AT = datetime(2025, 3, 1, 12, 6, tzinfo=UTC)


def _next_sequence(data_dir: Path, eventhub: str, partition_id: str) -> int:
    pattern = re.compile(
        rf"{re.escape(safe_name(eventhub))}-{re.escape(safe_name(partition_id))}-\d+-(\d+)\.parquet"
    )
    last = -1
    root = raw_root(data_dir)
    if root.is_dir():
        for path in root.rglob("*.parquet"):
            match = pattern.fullmatch(path.name)
            if match:
                last = max(last, int(match.group(1)))
    return last + 1


def write_raw(
    data_dir: Path,
    records: Sequence[dict[str, Any] | bytes],
    enqueued: datetime | None = None,
    *,
    eventhub: str = DEFAULT_HUB,
    partition_id: str = DEFAULT_PARTITION,
) -> FlushSummary:
    """Land `records` in the raw lake under `data_dir` (one event per record) and flush.

    A `bytes` item is sent as the event body as is (for envelopes or invalid JSON).
    `enqueued` (default 2025-03-01 12:05 UTC) is the Event Hubs enqueued time of every event: the
    last event-time fallback.
    """
    writer = RawBatchWriter(data_dir, eventhub, partition_id, clock=lambda: INGESTED_AT)
    enqueued_time = enqueued or DEFAULT_ENQUEUED
    seq = _next_sequence(data_dir, eventhub, partition_id)
    for item in records:
        body = item if isinstance(item, bytes) else orjson.dumps({"records": [item]})
        writer.add_event(
            body, sequence_number=seq, offset=str(seq * 100), enqueued_time=enqueued_time
        )
        seq += 1
    return writer.flush()


def build_rows(data_dir: Path, table: str, hour: datetime) -> list[dict[str, Any]]:
    """Build `table` for `hour` and return its rows (in file order), [] when it has no file."""
    from azlogs_pipeline.normalize.hour import build_hour

    result = build_hour(data_dir, hour, [table])[table]
    if result.path is None:
        return []
    return pq.read_table(result.path).to_pylist()
