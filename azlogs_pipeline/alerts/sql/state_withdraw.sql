-- A pending finding no longer in the detections (a rebuild with other data or thresholds dropped
-- it): withdrawn, not undelivered. If it comes back, state_add.sql makes it pending again.
UPDATE findings SET status = 'withdrawn' WHERE detection_id = :detection_id AND status = 'pending'
