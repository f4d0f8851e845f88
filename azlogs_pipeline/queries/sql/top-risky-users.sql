-- title: Who to look at first: the top risky users right now
-- params:
-- returns: rank, user_principal_name, risk_level, risk_state, detections_7d, failed_signins_24h, countries_7d, last_risky_signin_time
SELECT rank, user_principal_name, risk_level, risk_state, detections_7d, failed_signins_24h,
       countries_7d, last_risky_signin_time
FROM top_risky_users
WHERE as_of = (SELECT max(as_of) FROM top_risky_users)
ORDER BY rank
LIMIT 20;
