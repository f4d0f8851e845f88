-- title: Audit: role assignments added, users created then deleted within 24 h, guest to member changes
-- question: 14
-- params: since, user
-- returns: highlight, event_time, actor, target_upn, target_name, detail, created_time
-- Privileged role assignments, users deleted at most 24 h after creation, guest to member
-- conversions and application credential changes. Every role change, privileged or not:
-- audit_logs WHERE activity_display_name ILIKE 'Add%member to role%'. --user matches the
-- actor or the target.
SELECT highlight, event_time, actor, target_upn, target_name, detail, created_time
FROM audit_highlights
WHERE ($since IS NULL OR event_time >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(actor), lower(target_upn), lower(target_id)))
ORDER BY event_time DESC;
