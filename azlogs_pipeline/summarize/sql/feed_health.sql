-- feed_health: how each log category arrived in the hour, one row per category.
--
-- Input: the hour's rows of every normalized table (records are counted once, after dedupe).
-- Delivery delay is the Event Hubs enqueued time minus the event time, in seconds (negative when a
-- source's clock runs ahead). Lag per partition: the same delay per Event Hub partition the
-- category came through (a partition whose delay grows is a drain or a sender falling behind).
--
-- Columns: hour, category, records, median_delay_seconds, p95_delay_seconds, max_delay_seconds,
-- first_event_time, last_event_time, last_record_id, partitions (list of {eventhub, partition_id, records,
-- p95_delay_seconds, max_delay_seconds}, sorted).
WITH params AS (
    SELECT w.window_start, w.window_end FROM summary_window AS w
),
arrivals AS (
    SELECT category, event_time, enqueued_time, eventhub, partition_id, record_id FROM signin_logs
    UNION ALL SELECT category, event_time, enqueued_time, eventhub, partition_id, record_id FROM audit_logs
    UNION ALL SELECT category, event_time, enqueued_time, eventhub, partition_id, record_id
        FROM provisioning_logs
    UNION ALL SELECT category, event_time, enqueued_time, eventhub, partition_id, record_id FROM risky_users
    UNION ALL SELECT category, event_time, enqueued_time, eventhub, partition_id, record_id
        FROM user_risk_events
    UNION ALL SELECT category, event_time, enqueued_time, eventhub, partition_id, record_id
        FROM risky_service_principals
    UNION ALL SELECT category, event_time, enqueued_time, eventhub, partition_id, record_id
        FROM service_principal_risk_events
    UNION ALL SELECT category, event_time, enqueued_time, eventhub, partition_id, record_id
        FROM activity_logs
    UNION ALL SELECT category, event_time, enqueued_time, eventhub, partition_id, record_id
        FROM graph_activity_logs
),
delays AS (
    SELECT
        a.category, a.event_time, a.eventhub, a.partition_id, a.record_id,
        (epoch_us(a.enqueued_time) - epoch_us(a.event_time)) / 1e6 AS delay
    FROM arrivals AS a, params AS p
    WHERE a.event_time >= p.window_start AND a.event_time < p.window_end
        AND a.category IS NOT NULL
),
per_partition AS (
    SELECT
        category,
        {'eventhub': eventhub, 'partition_id': partition_id, 'records': count(*),
         'p95_delay_seconds': round(quantile_cont(delay, 0.95), 3),
         'max_delay_seconds': round(max(delay), 3)} AS partition_lag
    FROM delays
    GROUP BY category, eventhub, partition_id
),
partition_lists AS (
    SELECT
        category,
        list(partition_lag ORDER BY partition_lag.eventhub, partition_lag.partition_id)
            AS partitions
    FROM per_partition
    GROUP BY category
)
SELECT
    p.window_start AS hour,
    d.category,
    count(*) AS records,
    round(median(d.delay), 3) AS median_delay_seconds,
    round(quantile_cont(d.delay, 0.95), 3) AS p95_delay_seconds,
    round(max(d.delay), 3) AS max_delay_seconds,
    min(d.event_time) AS first_event_time,
    max(d.event_time) AS last_event_time,
    arg_max(d.record_id, (d.event_time, d.record_id)) AS last_record_id,
    l.partitions
FROM delays AS d
JOIN partition_lists AS l ON l.category = d.category
CROSS JOIN params AS p
GROUP BY p.window_start, d.category, l.partitions
