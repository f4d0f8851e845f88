-- The raw records a table reads over a range of hours (normalize/ranges.py), read once: every
-- file of `_range_files` (`_range_scan`), each row tagged with the index of its file's hour
-- (`_range_hours`) and its position in that hour's raw order (files in the order the hour's
-- build lists them, rows as landed), kept only within its hour's event-time bounds: per hour,
-- the rows its own build calls `raw_hour`, with their `shared_key` (whether another record of the
-- hour has the record's `dedupe_key`, NULL counted as one key: normalize/hour.py's column).
CREATE OR REPLACE TEMP TABLE _range_raw AS
SELECT
    s.* EXCLUDE (filename, file_row_number),
    f._azlogs_hour,
    f._azlogs_file * 4294967296 + s.file_row_number AS _azlogs_position,
    count(*) OVER (PARTITION BY f._azlogs_hour, coalesce(s.dedupe_key, '')) > 1 AS shared_key
FROM _range_scan AS s
JOIN _range_files AS f USING (filename)
JOIN _range_hours AS h USING (_azlogs_hour)
WHERE s.event_time >= h.hour_start AND s.event_time < h.hour_end
