-- A summary's SELECT run once for many partitions (summarize/inputs.py, summarize/build.py): one
-- row of _range_windows per partition. Inside the LATERAL subquery, summary_window and every
-- input view are that partition's own, so the summary's SQL runs unchanged; its rows come out
-- prefixed with their partition and sorted on all columns, as each partition's are alone.
SELECT w._azlogs_partition, q.*
FROM _range_windows AS w, LATERAL (
    WITH
    summary_window AS (SELECT w.window_start, w.window_end, w.lookback_start),
{views}
    SELECT * FROM (
{summary}
    ) AS summary_rows
) AS q
ORDER BY ALL
