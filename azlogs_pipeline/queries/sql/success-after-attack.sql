-- title: A success for the user, or from the IP, of a password spray or brute force
-- params: since, user
-- returns: window_start, window_end, entity, entity_type, user_id, description, signin_ids
-- The `success_after_attack` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, entity, entity_type, user_id, description, record_ids AS signin_ids
FROM detections
WHERE detection = 'success_after_attack'
  AND ($since IS NULL OR window_end >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(entity), lower(user_id)))
ORDER BY window_end DESC, entity;
