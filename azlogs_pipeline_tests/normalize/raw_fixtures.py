"""Write hand-made records into a raw lake exactly as the drain lands them (RawBatchWriter).

Each record becomes its own Event Hubs event (`{"records": [record]}`), so every record gets its
own sequence number. Sequence numbers continue after the highest one already in the lake for the
same hub and partition, so calling `write_raw` twice with the same records lands them twice (a
redelivery), which is what duplicate tests need. `run_table_sql` runs one table's SQL directly
over such a lake (the golden tests); `build_rows` builds it as the pipeline does.
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
from azlogs_pipeline.lake.raw_schema import RAW_RECORDS_SCHEMA

DEFAULT_HUB = "insights-logs-test"
DEFAULT_PARTITION = "0"
DEFAULT_ENQUEUED = datetime(2025, 3, 1, 12, 5, tzinfo=UTC)
INGESTED_AT = datetime(2025, 3, 1, 12, 6, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


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


def run_table_sql(
    table: str, data_dir: Path | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """`normalize/sql/<table>.sql` (its fragments filled in, `TableSpec.sql`) run directly over
    every raw file under `data_dir` (over zero records without one), in a session whose time zone
    is not UTC (results must not depend on it): the result's column names and its rows."""
    from azlogs_pipeline.normalize.hour import connect
    from azlogs_pipeline.normalize.tables import table_spec

    con = connect("America/New_York")
    if data_dir is None:
        con.from_arrow(RAW_RECORDS_SCHEMA.empty_table()).create_view("raw_hour")
    else:
        glob = raw_root(data_dir) / "**" / "*.parquet"
        con.execute(
            f"CREATE VIEW raw_hour AS SELECT * FROM read_parquet('{glob}', hive_partitioning = false)"
        )
    cursor = con.execute(table_spec(table).sql())
    names = [column[0] for column in cursor.description]
    return names, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def land_with_a_dead_letter(data_dir: Path, count: int) -> None:
    """`count` AuditLogs records (one event each, 2026-11-20 10:00) and one event that is no JSON
    (a dead letter), in one batch, the way a drain lands them."""
    writer = RawBatchWriter(data_dir, "adlogs", "0")
    for n in range(count):
        record = {"category": "AuditLogs", "time": "2026-11-20T10:00:00Z", "n": n}
        writer.add_event(
            orjson.dumps({"records": [record]}),
            sequence_number=n,
            offset=str(n),
            enqueued_time=datetime(2026, 11, 20, 10, tzinfo=UTC),
        )
    writer.add_event(b"{oops", sequence_number=count, offset="x", enqueued_time=datetime.now(UTC))
    writer.flush()
