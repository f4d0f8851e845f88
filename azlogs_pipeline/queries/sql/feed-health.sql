-- title: Feed health: records and delivery delay per category and hour
-- params: since
-- returns: hour, category, records, median_delay_seconds, p95_delay_seconds, max_delay_seconds, partitions
-- feed_health: one row per hour and category; delay = Event Hubs enqueued time - event time;
-- `partitions` has the same per Event Hub partition.
SELECT hour, category, records, median_delay_seconds, p95_delay_seconds, max_delay_seconds,
       partitions
FROM feed_health
WHERE ($since IS NULL OR hour >= $since)
ORDER BY hour DESC, category;
