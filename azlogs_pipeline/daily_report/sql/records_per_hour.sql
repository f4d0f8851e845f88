-- Daily report: records per category and hour of the day (the feed-health chart).
SELECT category, date_trunc('hour', event_time) AS hour, count(*) AS records
FROM raw_records
WHERE event_time >= $day_start AND event_time < $day_end
GROUP BY ALL
ORDER BY category, hour
