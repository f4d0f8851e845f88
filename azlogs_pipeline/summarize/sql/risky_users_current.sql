-- risky_users_current: every user's latest Identity Protection risk state, as of the window end.
--
-- One row per user (user_id) that has a `risky_users` snapshot in the 90 days before the end of
-- the partition's hour (the read window: this hour plus a 90-day lookback). Each hourly partition
-- is a complete picture "as of" its window end, so the catalog view holds one picture per built
-- hour; the risky users NOW are the rows of the latest picture:
--     SELECT * FROM risky_users_current
--     WHERE as_of = (SELECT max(as_of) FROM risky_users_current) AND is_risky;
--
-- Why 90 days: Identity Protection keeps risk detections for 90 days, and a user whose risk has
-- not changed for that long is not a current lead; older state is still in `risky_users`.
--
-- Latest state wins: the snapshot with the latest event time (riskLastUpdatedDateTime), ties
-- broken by record_id so a rebuild always picks the same one.
-- is_risky: risk_state atRisk or confirmedCompromised (remediated, dismissed, confirmedSafe and
--   none mean Identity Protection no longer considers the user at risk).
-- risky_since: start of the current at-risk streak: the first at-risk snapshot after the last
--   not-at-risk one within the 90 days (NULL when the user is not at risk now); "who became
--   risky today" is `risky_since >= current_date`.
WITH snapshots AS (
    SELECT
        user_id,
        event_time,
        record_id,
        user_principal_name,
        user_display_name,
        risk_level,
        risk_state,
        risk_detail,
        is_deleted,
        is_guest,
        is_processing,
        coalesce(risk_state IN ('atRisk', 'confirmedCompromised'), false) AS is_risky,
        -- 1 = the user's latest snapshot; ties on event time break on record_id.
        row_number() OVER (
            PARTITION BY user_id ORDER BY event_time DESC, record_id DESC
        ) AS recency
    FROM risky_users, summary_window AS w
    WHERE user_id IS NOT NULL
      AND event_time < w.window_end
),

latest AS (
    SELECT * FROM snapshots WHERE recency = 1
),

last_not_risky AS (
    SELECT user_id, min(recency) AS cleared_recency
    FROM snapshots
    WHERE NOT is_risky
    GROUP BY user_id
),

streak AS (
    -- The at-risk snapshots newer than the latest not-at-risk one.
    SELECT s.user_id, min(s.event_time) AS risky_since
    FROM snapshots AS s
    LEFT JOIN last_not_risky AS c USING (user_id)
    WHERE s.is_risky AND s.recency < coalesce(c.cleared_recency, 2147483647)
    GROUP BY s.user_id
),

updates AS (
    SELECT user_id, count(*) AS snapshots_90d
    FROM snapshots
    GROUP BY user_id
)

SELECT
    w.window_end AS as_of,
    l.user_id,
    l.user_principal_name,
    l.user_display_name,
    l.risk_level,
    l.risk_state,
    l.risk_detail,
    l.is_risky,
    CASE WHEN l.is_risky THEN st.risky_since END AS risky_since,
    l.event_time AS risk_last_updated_time,
    u.snapshots_90d,
    l.is_deleted,
    l.is_guest,
    l.is_processing
FROM latest AS l
CROSS JOIN summary_window AS w
LEFT JOIN streak AS st USING (user_id)
LEFT JOIN updates AS u USING (user_id)
ORDER BY l.user_id
