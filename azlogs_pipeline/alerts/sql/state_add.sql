-- A finding seen for the first time (an id already known keeps its row: rebuilds never resend;
-- a withdrawn one that is back is pending again).
INSERT INTO findings (detection_id, detection, severity, window_end, first_seen)
VALUES (:detection_id, :detection, :severity, :window_end, :now)
ON CONFLICT (detection_id) DO UPDATE SET status = 'pending' WHERE status = 'withdrawn'
