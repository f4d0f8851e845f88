"""Arrow schemas of the raw lake: one row per landed record, one row per dead-lettered event."""

from __future__ import annotations

import pyarrow as pa

from azlogs_pipeline.vocabulary import SCHEMA_VERSION

_TIMESTAMP = pa.timestamp("us", tz="UTC")

RAW_RECORDS_SCHEMA = pa.schema(
    [
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("event_time", _TIMESTAMP, nullable=False),
        pa.field("event_time_source", pa.string(), nullable=False),
        pa.field("tenant_id", pa.string()),
        pa.field("resource_id", pa.string()),
        pa.field("operation_name", pa.string()),
        pa.field("record", pa.string(), nullable=False),
        pa.field("repaired", pa.bool_(), nullable=False),
        pa.field("eventhub", pa.string(), nullable=False),
        pa.field("partition_id", pa.string(), nullable=False),
        pa.field("sequence_number", pa.int64(), nullable=False),
        pa.field("offset", pa.string()),
        pa.field("enqueued_time", _TIMESTAMP, nullable=False),
        pa.field("record_index", pa.int32(), nullable=False),
        pa.field("ingested_at", _TIMESTAMP, nullable=False),
        pa.field("dedupe_key", pa.string(), nullable=False),
    ],
    metadata={"azlogs.table": "raw_records", "azlogs.schema_version": SCHEMA_VERSION},
)

DEDUPE_KEY = "dedupe_key"
"""The raw column the table builds find possible versions of one event by: the record's own id
(`ingest.records.source_id`), else its `record_id`. Two records with one key may be versions of one
event; a record whose key no other record of the hour has is the only version of its event. Raw
files written before the column existed lack it (the builds then take their slower path)."""

DEADLETTER_SCHEMA = pa.schema(
    [
        pa.field("eventhub", pa.string(), nullable=False),
        pa.field("partition_id", pa.string(), nullable=False),
        pa.field("sequence_number", pa.int64(), nullable=False),
        pa.field("offset", pa.string()),
        pa.field("enqueued_time", _TIMESTAMP, nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("body", pa.binary(), nullable=False),
        pa.field("body_size", pa.int64(), nullable=False),
        pa.field("ingested_at", _TIMESTAMP, nullable=False),
    ],
    metadata={"azlogs.table": "deadletters", "azlogs.schema_version": SCHEMA_VERSION},
)

RAW_DICTIONARY_COLUMNS = (
    "category",
    "event_time_source",
    "tenant_id",
    "resource_id",
    "operation_name",
    "eventhub",
    "partition_id",
    "offset",
)
"""Low-cardinality columns worth dictionary encoding (the record text and ids are not)."""

RAW_COMPRESSION = {field.name: "snappy" for field in RAW_RECORDS_SCHEMA} | {
    "record": "zstd",
    "record_id": "zstd",
    "dedupe_key": "zstd",
}
"""Per-column codecs of a raw file: zstd where the bytes are (the record text, the ids); snappy for
the small columns, whose zstd contexts cost more CPU than they save bytes (same file size within
1%, about a quarter less CPU per small file; a flush writes one file per category and hour)."""

RAW_STATISTICS_COLUMNS = tuple(field.name for field in RAW_RECORDS_SCHEMA if field.name != "record")
"""Min/max statistics for every column but the record text, which no filter uses."""
