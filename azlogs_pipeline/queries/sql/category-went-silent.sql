-- title: Log categories that always arrive and stopped
-- params: since
-- returns: window_start, window_end, category, description, record_ids
-- The `category_went_silent` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, entity AS category, description, record_ids
FROM detections
WHERE detection = 'category_went_silent'
  AND ($since IS NULL OR window_end >= $since)
ORDER BY window_end DESC, entity;
