-- title: Password spray: one IP failing (50126, 50053, 50055) for 5+ distinct users within 20 minutes
-- question: 2
-- params: since
-- returns: window_start, window_end, ip_address, distinct_users, failures, countries, description, signin_ids
SELECT window_start, window_end, entity AS ip_address, distinct_users, failures, countries,
       description, signin_ids
FROM signin_detections
WHERE detection = 'password_spray'
  AND ($since IS NULL OR window_end >= $since)
ORDER BY window_start DESC;
