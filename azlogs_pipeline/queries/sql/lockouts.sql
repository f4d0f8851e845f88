-- title: Sign-ins to disabled accounts (50057); smart lockouts (50053)
-- question: 9
-- params: since, user
-- returns: kind, user_principal_name, attempts, ip_addresses, first_seen, last_seen
SELECT
    CASE error_code WHEN 50057 THEN 'disabled_account' ELSE 'smart_lockout' END AS kind,
    user_principal_name,
    count(*) AS attempts,
    list_sort(list_distinct(list(ip_address))) AS ip_addresses,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM signin_logs
WHERE error_code IN (50057, 50053)
  AND ($since IS NULL OR event_time >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(user_principal_name), lower(user_id)))
GROUP BY ALL
ORDER BY attempts DESC;
