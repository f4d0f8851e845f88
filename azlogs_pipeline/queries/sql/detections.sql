-- title: Every detection, newest first, by severity
-- params: severity, since, user
-- returns: window_start, window_end, detection, severity, entity, entity_type, description
-- --severity is the lowest severity shown: low, medium or high.
SELECT window_start, window_end, detection, severity, entity, entity_type, description
FROM signin_detections
WHERE ($severity IS NULL
       OR list_position(['low', 'medium', 'high'], severity)
          >= list_position(['low', 'medium', 'high'], $severity))
  AND ($since IS NULL OR window_end >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(entity), lower(user_id)))
ORDER BY window_end DESC, detection, entity;
