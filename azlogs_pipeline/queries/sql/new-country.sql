-- title: Successful sign-in from a country not seen for that user in the previous 14 days
-- question: 4
-- params: since, user
-- returns: signin_time, user, countries, ip_addresses, description, signin_ids
SELECT window_end AS signin_time, entity AS "user", countries, ip_addresses, description,
       signin_ids
FROM signin_detections
WHERE detection = 'new_country'
  AND ($since IS NULL OR window_end >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(entity), lower(user_id)))
ORDER BY signin_time DESC;
