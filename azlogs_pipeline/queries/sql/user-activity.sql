-- title: One user's activity: sign-ins, directory changes they made, risk detections, in time order
-- params: user, since
-- required: user
-- returns: event_time, source, activity, result, ip_address, country, app, detail
-- --user is a user principal name or object id (any case). source: signin, audit or risk.
SELECT
    event_time, 'signin' AS source, signin_type AS activity, result, ip_address,
    location_country AS country, app_display_name AS app,
    coalesce(nullif(failure_reason, ''), client_app_used) AS detail
FROM signin_logs
WHERE lower($user) IN (lower(user_principal_name), lower(user_id))
  AND ($since IS NULL OR event_time >= $since)
UNION ALL
SELECT
    event_time, 'audit', activity_display_name, result, initiated_by_ip, NULL,
    initiated_by_app_name, array_to_string(coalesce(target_upns, target_names), ', ')
FROM audit_logs
WHERE lower($user) IN (lower(initiated_by_upn), lower(initiated_by_user_id))
  AND ($since IS NULL OR event_time >= $since)
UNION ALL
SELECT
    event_time, 'risk', risk_event_type, concat_ws(' ', risk_level, risk_state), ip_address,
    location_country, NULL, risk_detail
FROM user_risk_events
WHERE lower($user) IN (lower(user_principal_name), lower(user_id))
  AND ($since IS NULL OR event_time >= $since)
ORDER BY event_time, source;
