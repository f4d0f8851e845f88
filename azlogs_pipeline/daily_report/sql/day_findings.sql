-- Daily report: the findings whose window ended in the day, high severity first, then by time.
-- `{source}` is the findings view named in code (alerts/findings.py), never data.
SELECT detection_id, severity, detection, entity, window_start, window_end, description
FROM "{source}"
WHERE window_end >= $day_start AND window_end < $day_end
ORDER BY CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, window_end,
    detection, entity
