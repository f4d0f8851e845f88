-- Alert state store (SQLite): one row per finding ever seen at or above the severity threshold.
-- status: 'pending' (not yet delivered), 'delivered' (its own post), 'digested' (in a digest),
-- 'withdrawn' (pending, then gone from the detections after a rebuild).
-- last_error is an error kind ("HTTP 500", "connection refused"), never a URL or a message.
CREATE TABLE IF NOT EXISTS findings (
    detection_id TEXT PRIMARY KEY,
    detection TEXT NOT NULL,
    severity TEXT NOT NULL,
    window_end TEXT,
    first_seen TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt TEXT,
    last_error TEXT,
    delivered_at TEXT
)
