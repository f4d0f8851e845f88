-- title: Conditional Access failures (53003, 53000..53002, conditionalAccessStatus = failure)
-- question: 8
-- params: since
-- returns: error_code, failure_reason, app_display_name, failures, users, last_seen
SELECT
    error_code,
    failure_reason,
    app_display_name,
    count(*) AS failures,
    count(DISTINCT user_principal_name) AS users,
    max(event_time) AS last_seen
FROM signin_logs
WHERE (error_code IN (53003, 53000, 53001, 53002) OR conditional_access_status = 'failure')
  AND ($since IS NULL OR event_time >= $since)
GROUP BY ALL
ORDER BY failures DESC;
