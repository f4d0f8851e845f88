-- title: Conditional Access policies deleted, disabled or switched to report-only
-- params: since
-- returns: window_start, window_end, policy, user_id, description, audit_ids
-- The `ca_policy_weakened` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, entity AS policy, user_id, description, record_ids AS audit_ids
FROM detections
WHERE detection = 'ca_policy_weakened'
  AND ($since IS NULL OR window_end >= $since)
ORDER BY window_end DESC, entity;
