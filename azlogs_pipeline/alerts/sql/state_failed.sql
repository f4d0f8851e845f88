-- A delivery that failed: the finding stays pending, with the error kind and attempts so far.
UPDATE findings
SET attempts = attempts + :attempts, last_attempt = :now, last_error = :error
WHERE detection_id = :detection_id
