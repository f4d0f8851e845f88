-- Daily report: failed sign-ins of the day per country, most first.
SELECT coalesce(country, '(unknown)') AS country, sum(failures) AS failures
FROM signin_summary
WHERE hour >= $day_start AND hour < $day_end AND failures > 0
GROUP BY ALL
ORDER BY failures DESC, country
LIMIT $limit
