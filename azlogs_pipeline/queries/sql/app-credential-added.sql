-- title: Secrets and certificates added to apps (high: right after an admin consent)
-- params: since
-- returns: window_start, window_end, severity, app, description, audit_ids
-- The `app_credential_added` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, severity, entity AS app, description, record_ids AS audit_ids
FROM detections
WHERE detection = 'app_credential_added'
  AND ($since IS NULL OR window_end >= $since)
ORDER BY severity = 'high' DESC, window_end DESC, entity;
