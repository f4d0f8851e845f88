-- title: Members added to privileged directory roles outside PIM
-- params: since, user
-- returns: window_start, window_end, member, user_id, description, audit_ids
-- The `privileged_role_assigned` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, entity AS member, user_id, description, record_ids AS audit_ids
FROM detections
WHERE detection = 'privileged_role_assigned'
  AND ($since IS NULL OR window_end >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(entity), lower(user_id)))
ORDER BY window_end DESC, entity;
