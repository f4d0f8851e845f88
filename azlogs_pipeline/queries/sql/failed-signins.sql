-- title: Failed sign-ins by user, by IP, by app, by country, per hour
-- question: 1
-- params: since, user
-- returns: hour, dimension, value, failures
-- Every failed sign-in counted once along each of the four dimensions.
WITH failures AS (
    SELECT
        date_trunc('hour', event_time) AS hour,
        user_principal_name AS "user",
        ip_address AS ip,
        app_display_name AS app,
        location_country AS country
    FROM signin_logs
    WHERE result = 'failure'
      AND ($since IS NULL OR event_time >= $since)
      AND ($user IS NULL OR lower($user) IN (lower(user_principal_name), lower(user_id)))
)
SELECT hour, dimension, value, count(*) AS failures
FROM (UNPIVOT failures ON "user", ip, app, country INTO NAME dimension VALUE value)
GROUP BY ALL
ORDER BY hour, dimension, failures DESC, value;
