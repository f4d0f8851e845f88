-- title: One session used from IPs in several countries (token or session replay)
-- params: since
-- returns: window_start, window_end, session_id, user_id, countries, ip_addresses, signin_ids
-- The `session_from_multiple_countries` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, entity AS session_id, user_id, countries, ip_addresses, record_ids AS signin_ids
FROM detections
WHERE detection = 'session_from_multiple_countries'
  AND ($since IS NULL OR window_end >= $since)
ORDER BY window_end DESC, entity;
