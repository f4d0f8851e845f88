-- A finding delivered, in its own post ('delivered') or in a digest ('digested').
UPDATE findings
SET status = :status, delivered_at = :now, attempts = attempts + :attempts, last_attempt = :now,
    last_error = NULL
WHERE detection_id = :detection_id
