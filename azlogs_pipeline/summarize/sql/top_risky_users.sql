-- top_risky_users: the users Identity Protection or their sign-ins flag, ranked, with what an
-- analyst checks first, as of the end of the partition's hour.
--
-- Read window: this hour plus a 7-day lookback of `risky_users`, `user_risk_events` and
-- `signin_logs`. A user is listed when, in those 7 days, they have a risk snapshot that is at
-- risk (atRisk, confirmedCompromised), a risk detection, or a risky sign-in (risk level during
-- the sign-in or aggregated medium or high: `is_risky_signin`, as in signin_summary).
-- Each hourly partition is a complete ranking "as of" its window end; the current one is
--     SELECT * FROM top_risky_users
--     WHERE as_of = (SELECT max(as_of) FROM top_risky_users) ORDER BY rank;
--
-- Columns:
--   rank                      1 = look first: current risk level (high > medium > low), then
--                             at risk now, high detections, detections, risky sign-ins, failed
--                             sign-ins, user_id
--   risk_level, risk_state    the latest risky_users snapshot of the 7 days (NULL when Identity
--                             Protection sent none; older state is in risky_users_current)
--   detections_7d             risk detections of the user in the 7 days (high_detections_7d: of
--                             level high), risk_event_types their distinct types
--   failed_signins_24h        failed sign-ins (result 'failure') in the last 24 hours
--   signins_7d                sign-ins of the user in the 7 days
--   countries_7d              countries of the user's successful sign-ins in the 7 days
--   last_risky_signin_*       the latest risky sign-in in the 7 days: time, id, IP, country, level
WITH bounds AS (
    SELECT
        window_end AS as_of,
        window_end - INTERVAL 7 DAY AS since_7d,
        window_end - INTERVAL 24 HOUR AS since_24h
    FROM summary_window
),

level_rank(level, level_rank) AS (
    VALUES ('high', 3), ('medium', 2), ('low', 1)
),

state AS (
    SELECT
        r.user_id,
        r.user_principal_name,
        r.risk_level,
        r.risk_state,
        r.event_time AS risk_last_updated_time,
        coalesce(r.risk_state IN ('atRisk', 'confirmedCompromised'), false) AS is_risky
    FROM risky_users AS r, bounds AS b
    WHERE r.user_id IS NOT NULL AND r.event_time >= b.since_7d AND r.event_time < b.as_of
    QUALIFY row_number() OVER (
        PARTITION BY r.user_id ORDER BY r.event_time DESC, r.record_id DESC
    ) = 1
),

detections AS (
    SELECT
        e.user_id,
        max_by(e.user_principal_name, (e.event_time, e.record_id)) AS user_principal_name,
        count(*) AS detections_7d,
        count(*) FILTER (WHERE e.risk_level = 'high') AS high_detections_7d,
        list_sort(list_distinct(list(e.risk_event_type))) AS risk_event_types,
        max(e.event_time) AS last_detection_time
    FROM user_risk_events AS e, bounds AS b
    WHERE e.user_id IS NOT NULL AND e.event_time >= b.since_7d AND e.event_time < b.as_of
    GROUP BY e.user_id
),

signins AS (
    SELECT
        s.*,
        s.event_time >= b.since_24h AS in_24h,
        is_risky_signin(s.risk_level_during_signin, s.risk_level_aggregated) AS is_risky
    FROM signin_logs AS s, bounds AS b
    WHERE coalesce(s.user_id, '') <> '' AND s.event_time >= b.since_7d AND s.event_time < b.as_of
),

signin_stats AS (
    SELECT
        user_id,
        max_by(user_principal_name, (event_time, id)) AS user_principal_name,
        count(*) AS signins_7d,
        count(*) FILTER (WHERE result = 'failure' AND in_24h) AS failed_signins_24h,
        list_sort(list_distinct(list(location_country)
            FILTER (WHERE result = 'success' AND location_country IS NOT NULL))) AS countries_7d,
        count(*) FILTER (WHERE is_risky) AS risky_signins_7d
    FROM signins
    GROUP BY user_id
),

last_risky AS (
    SELECT
        user_id,
        event_time AS last_risky_signin_time,
        id AS last_risky_signin_id,
        ip_address AS last_risky_signin_ip,
        location_country AS last_risky_signin_country,
        CASE
            WHEN 'high' IN (lower(risk_level_during_signin), lower(risk_level_aggregated))
                THEN 'high'
            ELSE 'medium'
        END AS last_risky_signin_level
    FROM signins
    WHERE is_risky
    QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY event_time DESC, id DESC) = 1
),

flagged AS (
    SELECT user_id FROM state WHERE is_risky
    UNION
    SELECT user_id FROM detections
    UNION
    SELECT user_id FROM last_risky
),

listed AS (
    SELECT
        f.user_id,
        coalesce(st.user_principal_name, d.user_principal_name, ss.user_principal_name)
            AS user_principal_name,
        st.risk_level,
        st.risk_state,
        coalesce(st.is_risky, false) AS is_risky,
        st.risk_last_updated_time,
        coalesce(d.detections_7d, 0) AS detections_7d,
        coalesce(d.high_detections_7d, 0) AS high_detections_7d,
        coalesce(d.risk_event_types, []) AS risk_event_types,
        d.last_detection_time,
        coalesce(ss.failed_signins_24h, 0) AS failed_signins_24h,
        coalesce(ss.signins_7d, 0) AS signins_7d,
        coalesce(ss.countries_7d, []) AS countries_7d,
        coalesce(ss.risky_signins_7d, 0) AS risky_signins_7d,
        lr.last_risky_signin_time,
        lr.last_risky_signin_id,
        lr.last_risky_signin_ip,
        lr.last_risky_signin_country,
        lr.last_risky_signin_level,
        coalesce(lv.level_rank, 0) AS level_rank
    FROM flagged AS f
    LEFT JOIN state AS st USING (user_id)
    LEFT JOIN detections AS d USING (user_id)
    LEFT JOIN signin_stats AS ss USING (user_id)
    LEFT JOIN last_risky AS lr USING (user_id)
    LEFT JOIN level_rank AS lv ON lv.level = st.risk_level
)

SELECT
    b.as_of,
    row_number() OVER (
        ORDER BY level_rank DESC, is_risky DESC, high_detections_7d DESC, detections_7d DESC,
                 risky_signins_7d DESC, failed_signins_24h DESC, user_id
    ) AS rank,
    l.* EXCLUDE (level_rank)
FROM listed AS l, bounds AS b
ORDER BY rank
