-- title: High-risk sign-ins (risk level during the sign-in or aggregated high, risk state atRisk)
-- question: 10
-- params: since, user
-- returns: event_time, user_principal_name, risk_level_during_signin, risk_level_aggregated, risk_state, risk_event_types, result, ip_address, location_country, app_display_name
-- High risk first, then any sign-in Identity Protection still holds at risk.
SELECT
    event_time, user_principal_name, risk_level_during_signin, risk_level_aggregated,
    risk_state, risk_event_types, result, ip_address, location_country, app_display_name
FROM signin_logs
WHERE (risk_level_during_signin = 'high' OR risk_level_aggregated = 'high'
       OR risk_state = 'atRisk')
  AND ($since IS NULL OR event_time >= $since)
  AND ($user IS NULL OR lower($user) IN (lower(user_principal_name), lower(user_id)))
ORDER BY 'high' IN (risk_level_during_signin, risk_level_aggregated) DESC, event_time DESC;
