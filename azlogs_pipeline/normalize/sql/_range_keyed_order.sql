-- The rows of a ranged query (_range_query.sql) of a table that dedupes by key
-- (TableSpec.dedupes_by_key: signin_logs) in the order its per-hour build writes them: per hour,
-- first the rows of records whose `dedupe_key` no other record of the hour shares, in the raw
-- order (`_azlogs_position`), then the rest by (event_time, record_id). Such a record is the only
-- raw row of its record_id in the hour (an exact copy shares its key).
SELECT q.*
FROM ({rows}) AS q
LEFT JOIN (
    SELECT _azlogs_hour, record_id, bool_or(shared_key) AS shared, min(_azlogs_position) AS position
    FROM _range_raw
    GROUP BY _azlogs_hour, record_id
) AS p USING (_azlogs_hour, record_id)
ORDER BY
    q._azlogs_hour,
    p.shared,
    CASE WHEN NOT p.shared THEN p.position END,
    q.event_time,
    q.record_id
