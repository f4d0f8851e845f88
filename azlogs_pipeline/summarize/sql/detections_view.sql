-- detections (catalog view): the findings of every detection family, one row per finding, in one
-- place. Every family's rows have these columns; signin_detections (older, with extra sign-in
-- columns: distance_km, speed_kmh, failures, successes) is mapped onto them (`signins` ->
-- `records`, `signin_ids` -> `record_ids`).
--
-- Columns: hour (partition that owns the finding), detection_id (stable across rebuilds),
-- detection, family (the summary that raised it), severity ('high' | 'medium'), entity,
-- entity_type, user_id, window_start / window_end (first evidence / trigger), records (evidence
-- rows), distinct_users, distinct_ips, distinct_countries, countries, ip_addresses, description
-- (one line), record_ids (the sign-in, audit or record ids of the evidence, in time order).
SELECT
    hour, detection_id, detection, 'signin_detections' AS family, severity, entity, entity_type,
    user_id, window_start, window_end, signins AS records, distinct_users, distinct_ips,
    distinct_countries, countries, ip_addresses, description, signin_ids AS record_ids
FROM signin_detections
UNION ALL BY NAME
SELECT 'directory_detections' AS family, * FROM directory_detections
UNION ALL BY NAME
SELECT 'session_detections' AS family, * FROM session_detections
UNION ALL BY NAME
SELECT 'feed_detections' AS family, * FROM feed_detections
