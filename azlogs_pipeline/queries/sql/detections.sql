-- title: Every detection of every family, newest first, by severity
-- params: severity, since, user
-- returns: window_start, window_end, detection, family, severity, entity, entity_type, description, record_ids
-- --severity is the lowest severity shown: low, medium or high. The `detections` view holds the
-- findings of every detection family (docs/detections.md).
SELECT window_start, window_end, detection, family, severity, entity, entity_type, description,
       record_ids
FROM detections
WHERE ($severity IS NULL
       OR list_position(['low', 'medium', 'high'], severity)
          >= list_position(['low', 'medium', 'high'], $severity))
  AND ($since IS NULL OR window_end >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(entity), lower(user_id)))
ORDER BY window_end DESC, detection, entity;
