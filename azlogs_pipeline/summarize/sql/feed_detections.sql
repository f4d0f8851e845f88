-- feed_detections: someone blinding this very pipeline, or a feed gone quiet; one row per finding
-- (the columns of the `detections` view).
--
-- Input: `activity_logs` of the hour, and the `feed_health` rows (records per hour and
-- category, built first) of the hour AND the silence_history_hours + silent_category_hours + 1
-- hours before it (history: which categories arrived every hour), `summary_window`,
-- `detection_thresholds` (defaults and sources in azlogs_pipeline/summarize/thresholds.py).
--
--   log_feed_tampered    high: a successful Activity log operation that deletes or changes a
--                        diagnostic setting (Azure Monitor's or Entra's) or deletes an Event Hub,
--                        its namespace or regenerates their keys (feed_tamper_operations, matched
--                        case-insensitively: Azure sends them in any case). Owned by its hour.
--   category_went_silent high: a category with records in every one of the
--                        silence_history_hours clock hours up to its last record L has no record
--                        for silent_category_hours after L. Raised at L + silent_category_hours,
--                        by the hour that contains that moment (so once). Needs that hour to be
--                        built: a feed silent in every category builds no hour (see
--                        `azlogs status` for that).
WITH params AS (
    SELECT
        w.window_start, w.window_end, t.*,
        to_hours(t.silent_category_hours) AS silence,
        to_hours(t.silence_history_hours) AS history
    FROM summary_window AS w, detection_thresholds AS t
),

-- Diagnostic settings and Event Hubs changed ------------------------------------------------------
tampering AS (
    SELECT a.*
    FROM activity_logs AS a, params AS p
    WHERE a.event_time >= p.window_start AND a.event_time < p.window_end
        AND lower(a.result_type) IN ('success', 'succeeded')
        AND list_contains(list_transform(p.feed_tamper_operations, lambda x: upper(x)),
                          upper(a.operation_name))
),
tampered AS (
    SELECT
        'log_feed_tampered' AS detection, 'high' AS severity,
        coalesce(t.resource_id, t.operation_name) AS entity, 'resource' AS entity_type,
        t.caller_object_id AS user_id, t.event_time AS window_start, t.event_time AS window_end,
        1 AS records, t.caller_ip AS ip,
        format('{} on {} by {}', upper(t.operation_name), coalesce(t.resource_id, '?'),
               coalesce(t.caller, 'unknown')) AS description,
        [t.record_id] AS record_ids
    FROM tampering AS t
),

-- A category gone silent (from feed_health: one row per hour and category) ----------------------
last_before_silence AS (
    -- the hour whose records' silence would reach silent_category_hours in this hour: the last
    -- record L of a category in that hour
    SELECT h.category, h.last_event_time AS last_time, h.last_record_id AS last_id
    FROM feed_health AS h, params AS p
    WHERE h.hour = p.window_start - p.silence
),
silent AS (
    -- no hour after L's, up to this one, has a record of the category within the silence
    SELECT l.*
    FROM last_before_silence AS l
    CROSS JOIN params AS p
    LEFT JOIN feed_health AS h
        ON h.category = l.category AND h.hour > p.window_start - p.silence
        AND h.hour <= p.window_start AND h.first_event_time <= l.last_time + p.silence
    WHERE h.category IS NULL
),
history_hours AS (
    SELECT s.category, s.last_time, s.last_id, count(DISTINCT h.hour) AS hours_with_records
    FROM silent AS s
    CROSS JOIN params AS p
    JOIN feed_health AS h
        ON h.category = s.category
        AND h.hour <= p.window_start - p.silence
        AND h.hour > p.window_start - p.silence - p.history
    GROUP BY ALL
),
went_silent AS (
    SELECT
        'category_went_silent' AS detection, 'high' AS severity, h.category AS entity,
        'category' AS entity_type, NULL::VARCHAR AS user_id, h.last_time AS window_start,
        h.last_time + p.silence AS window_end, 1 AS records, NULL::VARCHAR AS ip,
        format('{}: no record for {} h after {} UTC (records in each of the {} hours before)',
               h.category, p.silent_category_hours,
               strftime(h.last_time AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S'),
               p.silence_history_hours) AS description,
        [h.last_id] AS record_ids
    FROM history_hours AS h, params AS p
    WHERE h.hours_with_records >= p.silence_history_hours
),

findings AS (
    SELECT * FROM tampered
    UNION ALL BY NAME SELECT * FROM went_silent
)

SELECT * FROM detection_rows(findings)
