-- risk_events_daily: Identity Protection risk detections per UTC day, by risk event type, risk
-- level and detection timing.
--
-- One daily partition reads the `user_risk_events` of its 24 hours (no lookback). The day is the
-- day the risky activity happened (activityDateTime, the table's event_time), not the day it was
-- detected: offline detections arrive up to 48 hours later and land in their activity's hour,
-- which is then rebuilt, and so is its day.
--
-- Columns:
--   date                   the UTC day
--   risk_event_type        unfamiliarFeatures, anonymizedIPAddress, unlikelyTravel, ... (open set)
--   risk_level             low, medium, high, hidden, none
--   detection_timing_type  realtime, nearRealtime, offline
--   detections             detections (one per record; duplicates were removed by the table)
--   distinct_users         distinct users with such a detection that day
--   at_risk                detections still atRisk (not remediated, dismissed or confirmed safe)
--   confirmed_compromised  detections an admin confirmed as compromise
--   first_seen / last_seen earliest and latest activity time of these detections that day
-- Missing type, level or timing are reported as 'unknown' so every detection is counted.
SELECT
    CAST(timezone('UTC', e.event_time) AS DATE) AS date,
    coalesce(e.risk_event_type, 'unknown') AS risk_event_type,
    coalesce(e.risk_level, 'unknown') AS risk_level,
    coalesce(e.detection_timing_type, 'unknown') AS detection_timing_type,
    count(*) AS detections,
    count(DISTINCT e.user_id) AS distinct_users,
    count(*) FILTER (WHERE e.risk_state = 'atRisk') AS at_risk,
    count(*) FILTER (WHERE e.risk_state = 'confirmedCompromised') AS confirmed_compromised,
    min(e.event_time) AS first_seen,
    max(e.event_time) AS last_seen
FROM user_risk_events AS e, summary_window AS w
WHERE e.event_time >= w.window_start AND e.event_time < w.window_end
GROUP BY ALL
ORDER BY date, risk_event_type, risk_level, detection_timing_type
