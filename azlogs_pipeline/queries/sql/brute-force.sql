-- title: Distributed brute force: one user with 30+ failures from 3+ distinct locations in a day
-- question: 3
-- params: since, user
-- returns: window_start, window_end, user, failures, distinct_ips, distinct_countries, countries, ip_addresses
SELECT window_start, window_end, entity AS "user", failures, distinct_ips, distinct_countries,
       countries, ip_addresses
FROM signin_detections
WHERE detection = 'distributed_brute_force'
  AND ($since IS NULL OR window_end >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(entity), lower(user_id)))
ORDER BY window_start DESC;
