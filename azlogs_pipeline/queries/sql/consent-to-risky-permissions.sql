-- title: Consent to apps asking for high-privilege scopes (Mail.ReadWrite, Files.ReadWrite.All, ...)
-- params: since
-- returns: window_start, window_end, severity, app, description, audit_ids
-- The `consent_to_risky_permissions` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, severity, entity AS app, description, record_ids AS audit_ids
FROM detections
WHERE detection = 'consent_to_risky_permissions'
  AND ($since IS NULL OR window_end >= $since)
ORDER BY severity = 'high' DESC, window_end DESC, entity;
