-- Alerts: every finding at or above a severity rank ($min_rank: 1 low, 2 medium, 3 high), oldest
-- first. `{source}` is the findings view named in code (alerts/findings.py), never data.
SELECT *
FROM "{source}"
WHERE CASE severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END
    >= $min_rank
ORDER BY window_end, detection_id
