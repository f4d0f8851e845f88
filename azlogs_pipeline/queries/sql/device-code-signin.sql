-- title: First device-code sign-in of a user in 14 days (device-code phishing)
-- params: since, user
-- returns: window_start, window_end, user, user_id, ip_addresses, signin_ids
-- The `device_code_signin` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, entity AS user, user_id, ip_addresses, record_ids AS signin_ids
FROM detections
WHERE detection = 'device_code_signin'
  AND ($since IS NULL OR window_end >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(entity), lower(user_id)))
ORDER BY window_end DESC, entity;
