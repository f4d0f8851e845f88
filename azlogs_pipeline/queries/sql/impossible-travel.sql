-- title: Impossible travel: two successful sign-ins of one user too far apart for the time between
-- question: 5
-- params: since, user
-- returns: first_signin, second_signin, user, distance_km, speed_kmh, countries, ip_addresses, signin_ids
SELECT window_start AS first_signin, window_end AS second_signin, entity AS "user",
       distance_km, speed_kmh, countries, ip_addresses, signin_ids
FROM signin_detections
WHERE detection = 'impossible_travel'
  AND ($since IS NULL OR window_end >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(entity), lower(user_id)))
ORDER BY speed_kmh DESC NULLS FIRST;
