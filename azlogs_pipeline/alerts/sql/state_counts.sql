-- Findings per status, the oldest pending one's first sighting and the latest error kind.
SELECT
    count(*) FILTER (WHERE status = 'delivered') AS delivered,
    count(*) FILTER (WHERE status = 'digested') AS digested,
    count(*) FILTER (WHERE status = 'pending') AS pending,
    min(first_seen) FILTER (WHERE status = 'pending') AS oldest_pending,
    (SELECT last_error FROM findings WHERE status = 'pending' AND last_error IS NOT NULL
     ORDER BY last_attempt DESC LIMIT 1) AS last_error
FROM findings
