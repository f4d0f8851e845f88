-- The findings not delivered yet.
SELECT detection_id FROM findings WHERE status = 'pending' ORDER BY window_end, detection_id
