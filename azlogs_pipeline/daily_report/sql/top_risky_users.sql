-- Daily report: the ranking of top_risky_users as of the day's last built hour.
SELECT rank, coalesce(user_principal_name, user_id) AS user, risk_level, risk_state,
    detections_7d, risky_signins_7d, failed_signins_24h, array_to_string(countries_7d, ', ')
        AS countries_7d
FROM top_risky_users
WHERE as_of = (
    SELECT max(as_of) FROM top_risky_users WHERE as_of > $day_start AND as_of <= $day_end
)
ORDER BY rank
LIMIT $limit
