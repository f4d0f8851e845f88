-- Daily report: failed sign-ins of the day per error code, most first.
SELECT code.key AS error_code, sum(code.value) AS failures
FROM (
    SELECT unnest(map_entries(failures_by_error_code)) AS code
    FROM signin_summary
    WHERE hour >= $day_start AND hour < $day_end
)
GROUP BY ALL
ORDER BY failures DESC, error_code
LIMIT $limit
