-- The dedupe keys (NULL counted as the one key '') that more than one record of `raw_hour` has,
-- with how many records have each: the records a table that dedupes by key ranks
-- (normalize/hour.py gives `raw_hour` its `shared_key` column from them).
SELECT coalesce(dedupe_key, '') AS split_key, count(*) AS records
FROM raw_hour
GROUP BY split_key
HAVING count(*) > 1
