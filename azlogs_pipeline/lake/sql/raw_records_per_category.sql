-- Records in the raw lake per category, with the hours they span and how many were repaired.
SELECT
    category,
    count(*) AS records,
    count(DISTINCT record_id) AS distinct_records,
    sum(CASE WHEN repaired THEN 1 ELSE 0 END) AS repaired,
    min(event_time) AS first_event,
    max(event_time) AS last_event
FROM read_parquet($raw_glob, union_by_name = true)
GROUP BY category
ORDER BY records DESC, category
