-- title: Diagnostic settings or the Event Hub changed: this pipeline blinded
-- params: since
-- returns: window_start, window_end, resource, user_id, description, record_ids
-- The `log_feed_tampered` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, entity AS resource, user_id, description, record_ids
FROM detections
WHERE detection = 'log_feed_tampered'
  AND ($since IS NULL OR window_end >= $since)
ORDER BY window_end DESC, entity;
