-- Daily report: per category, the records of the day, the hours that had any, and the delivery
-- delay (Event Hubs enqueued time minus event time) at the median and the 95th percentile.
SELECT
    category,
    count(*) AS records,
    count(DISTINCT date_trunc('hour', event_time)) AS hours_with_records,
    round(median(epoch(enqueued_time) - epoch(event_time)) / 60, 1) AS median_delay_min,
    round(quantile_cont(epoch(enqueued_time) - epoch(event_time), 0.95) / 60, 1) AS p95_delay_min
FROM raw_records
WHERE event_time >= $day_start AND event_time < $day_end
GROUP BY category
ORDER BY category
