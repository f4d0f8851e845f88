-- raw_of(record_id, event_time): the raw record of a table row as it landed (JSON text, column
-- `record`), its first landed copy, read from the raw files of that event-time hour only (every
-- category of the hour, never the rest of the lake). Every table row carries both arguments:
--   SELECT record FROM raw_of('<record_id>', TIMESTAMPTZ '2025-03-01 10:05:00+00');
-- An hour without raw files is an error naming the files it looked for.
-- The placeholder is filled by azlogs_pipeline/catalog.py with a quoted literal from the code.
CREATE OR REPLACE MACRO raw_of(rid, moment) AS TABLE
SELECT record_id, category, event_time, record
FROM read_parquet(
    {raw_root} || '/category=*/date=' || strftime(timezone('UTC', moment), '%Y-%m-%d')
        || '/hour=' || strftime(timezone('UTC', moment), '%H') || '/*.parquet',
    union_by_name = true
)
WHERE record_id = rid
QUALIFY row_number() OVER (
    PARTITION BY record_id ORDER BY sequence_number, eventhub, partition_id, record_index
) = 1
