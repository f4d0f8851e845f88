-- title: Risk detections by type, level and timing, per day
-- question: 12
-- params: since
-- returns: date, risk_event_type, risk_level, detection_timing_type, detections, distinct_users
SELECT date, risk_event_type, risk_level, detection_timing_type, detections, distinct_users
FROM risk_events_daily
WHERE $since IS NULL OR date >= CAST($since AS DATE)
ORDER BY date DESC, detections DESC;
