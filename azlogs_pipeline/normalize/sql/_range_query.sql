-- A table's SELECT run once for many hours (normalize/ranges.py): one row of `_range_hours` per
-- hour. Inside the LATERAL subquery `raw_hour` is that hour's own rows of `_range_raw`, so the
-- table's SQL runs unchanged, hour by hour (its dedupes never reach another hour); its rows come
-- out prefixed with their hour's index.
SELECT h._azlogs_hour, q.*
FROM _range_hours AS h, LATERAL (
    WITH raw_hour AS (
        SELECT r.* EXCLUDE (_azlogs_hour, _azlogs_position)
        FROM _range_raw AS r
        WHERE r._azlogs_hour = h._azlogs_hour
    )
    SELECT * FROM (
{table}
    ) AS table_rows
) AS q
