-- Daily report: the UTC day with the most sign-ins (the day `make demo` reports on).
SELECT strftime(hour AT TIME ZONE 'UTC', '%Y-%m-%d') AS day
FROM signin_summary
GROUP BY day
ORDER BY sum(attempts) DESC, day
LIMIT 1
