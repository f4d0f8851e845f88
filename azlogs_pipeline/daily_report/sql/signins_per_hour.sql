-- Daily report: sign-ins, successes and failures per hour of the day (signin_summary).
SELECT hour, sum(attempts) AS attempts, sum(successes) AS successes, sum(failures) AS failures
FROM signin_summary
WHERE hour >= $day_start AND hour < $day_end
GROUP BY hour
ORDER BY hour
