-- title: Security info changed within 24 h after a risky sign-in or risk detection
-- params: since, user
-- returns: window_start, window_end, user, user_id, description, evidence_ids
-- The `auth_method_changed_after_risk` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, entity AS user, user_id, description, record_ids AS evidence_ids
FROM detections
WHERE detection = 'auth_method_changed_after_risk'
  AND ($since IS NULL OR window_end >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(entity), lower(user_id)))
ORDER BY window_end DESC, entity;
