-- Report: the most recent detections, high severity first.
SELECT
    severity,
    detection,
    entity,
    strftime(window_end AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') AS at_utc,
    description
FROM detections
ORDER BY severity = 'high' DESC, window_end DESC, detection, entity
LIMIT $limit
