-- title: An IP trying disabled accounts (50057) that signs in as someone else
-- params: since
-- returns: window_start, window_end, ip_address, distinct_users, description, signin_ids
-- The `disabled_account_probing` findings of the `detections` view (docs/detections.md: what it reads, its
-- thresholds and where they come from).
SELECT window_start, window_end, entity AS ip_address, distinct_users, description, record_ids AS signin_ids
FROM detections
WHERE detection = 'disabled_account_probing'
  AND ($since IS NULL OR window_end >= $since)
ORDER BY window_end DESC, entity;
