-- title: Legacy authentication in use (IMAP4, POP3, SMTP, Exchange ActiveSync, Other clients, ...)
-- question: 6
-- params: since, user
-- returns: client_app_used, user_principal_name, attempts, successes, failures, last_seen
-- Anything but a browser or a modern app is legacy authentication (no MFA possible).
-- Successes matter most: a blocked attempt is Conditional Access doing its job.
SELECT
    client_app_used,
    user_principal_name,
    count(*) AS attempts,
    count(*) FILTER (WHERE result = 'success') AS successes,
    count(*) FILTER (WHERE result = 'failure') AS failures,
    max(event_time) AS last_seen
FROM signin_logs
WHERE client_app_used NOT IN ('', 'Browser', 'Mobile Apps and Desktop clients')
  AND ($since IS NULL OR event_time >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(user_principal_name), lower(user_id)))
GROUP BY ALL
ORDER BY successes DESC, attempts DESC;
