-- session_detections: token and session abuse, one row per finding (the columns of the
-- `detections` view).
--
-- Input: `signin_logs` of the hour AND the 14 days before it (history only), the
-- `signin_detections` findings of the success_after_attack_hours before it (and of the hour),
-- `summary_window`, `detection_thresholds` (defaults and sources in
-- azlogs_pipeline/summarize/thresholds.py). Users are keyed by object id, else lower-cased UPN.
-- A finding belongs to the hour of the sign-in that makes its rule true, so it is reported once
-- however hours are rebuilt (once the signin_detections hours it reads are built: Dagster's
-- lineage and `azlogs run` build them first).
--
--   session_from_multiple_countries  high: one session id (the sign-in's sessionId) used from
--                         IPs in >= session_min_countries countries within session_window_hours
--                         (any result: a replayed token blocked by Conditional Access counts);
--                         raised at the sign-in that reaches the count, again only after a
--                         window without it
--   device_code_signin    medium: a successful device-code flow sign-in (authenticationProtocol
--                         deviceCode) of a user with no device-code sign-in in the previous
--                         device_code_history_days but other sign-ins then (so the lake holds
--                         the user's history)
--   disabled_account_probing  high: an IP with sign-in attempts to disabled accounts (error
--                         50057) that also signs in successfully as another user within
--                         probing_window_minutes; raised at the event completing the pair, again
--                         only after a window without one
--   success_after_attack  high: the first successful sign-in of the user, or from the IP, that
--                         was the entity of a password_spray or distributed_brute_force finding,
--                         within success_after_attack_hours after that finding's window end
WITH params AS (
    SELECT
        w.window_start, w.window_end, t.*,
        to_hours(t.session_window_hours) AS session_window,
        to_days(t.device_code_history_days) AS device_history,
        to_minutes(t.probing_window_minutes) AS probe_window,
        to_hours(t.success_after_attack_hours) AS attack_reach
    FROM summary_window AS w, detection_thresholds AS t
),

signins AS (
    SELECT
        coalesce(s.id, s.record_id) AS signin_id,
        s.event_time,
        user_key(s.user_id, s.user_principal_name) AS user_key,
        nullif(s.user_id, '') AS user_id,
        CASE WHEN contains(s.user_principal_name, '@') THEN lower(s.user_principal_name) END
            AS upn,
        s.ip_address,
        s.location_country AS country,
        s.result,
        s.error_code,
        nullif(trim(s.session_id), '') AS session_id,
        lower(s.authentication_protocol) AS protocol
    FROM signin_logs AS s
),

-- One session from several countries ------------------------------------------------------------
session_points AS (
    -- each sign-in of a session with the countries the session used in the window ending at it
    SELECT f.session_id, f.signin_id, f.event_time,
           count(DISTINCT g.country) AS countries
    FROM signins AS f
    CROSS JOIN params AS p
    JOIN signins AS g
        ON g.session_id = f.session_id AND g.country IS NOT NULL
        AND in_window_ending_at(g.event_time, g.signin_id, f.event_time, f.signin_id,
                                p.session_window)
    WHERE f.session_id IS NOT NULL
        AND f.event_time >= p.window_start - 2 * p.session_window
    GROUP BY ALL
),
session_triggers AS (
    SELECT q.*
    FROM (
        SELECT
            sp.*,
            sp.countries >= p.session_min_countries AS hit,
            max(CASE WHEN sp.countries >= p.session_min_countries THEN sp.event_time END) OVER (
                PARTITION BY sp.session_id ORDER BY sp.event_time, sp.signin_id
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS last_hit
        FROM session_points AS sp, params AS p
    ) AS q, params AS p
    WHERE q.hit AND (q.last_hit IS NULL OR q.last_hit <= q.event_time - p.session_window)
        AND q.event_time >= p.window_start AND q.event_time < p.window_end
),
session_evidence AS (
    SELECT tr.session_id, tr.signin_id AS trigger_id, tr.event_time AS trigger_time,
           g.signin_id, g.event_time
    FROM session_triggers AS tr
    CROSS JOIN params AS p
    JOIN signins AS g
        ON g.session_id = tr.session_id
        AND in_window_ending_at(g.event_time, g.signin_id, tr.event_time, tr.signin_id,
                                p.session_window)
),
sessions AS (
    SELECT
        'session_from_multiple_countries' AS detection, 'high' AS severity,
        e.session_id AS entity, 'session' AS entity_type, e.trigger_id,
        e.trigger_time, e.signin_id, e.event_time
    FROM session_evidence AS e
),

-- Device-code sign-in, first in the history -----------------------------------------------------
device_codes AS (
    SELECT s.*, p.device_history
    FROM signins AS s, params AS p
    WHERE s.protocol = 'devicecode' AND s.result = 'success' AND s.user_key IS NOT NULL
        AND s.event_time >= p.window_start AND s.event_time < p.window_end
),
device_first AS (
    -- no device-code sign-in of the user before it in the history, and other sign-ins then
    SELECT d.*
    FROM device_codes AS d
    JOIN signins AS h
        ON h.user_key = d.user_key
        AND h.event_time > d.event_time - d.device_history
        AND (h.event_time < d.event_time
             OR (h.event_time = d.event_time AND h.signin_id < d.signin_id))
    GROUP BY ALL
    HAVING count(*) FILTER (WHERE h.protocol = 'devicecode') = 0
        AND count(*) FILTER (WHERE h.event_time < d.event_time) > 0
),
devices AS (
    SELECT
        'device_code_signin' AS detection, 'medium' AS severity,
        coalesce(d.upn, d.user_key) AS entity, 'user' AS entity_type, d.signin_id AS trigger_id,
        d.event_time AS trigger_time, d.signin_id, d.event_time
    FROM device_first AS d
),

-- Disabled-account probing --------------------------------------------------------------------
probe_events AS (
    SELECT
        s.*,
        s.result = 'failure' AND s.error_code = 50057 AS disabled_try,
        s.result = 'success' AS success,
        p.probe_window
    FROM signins AS s, params AS p
    WHERE s.ip_address IS NOT NULL AND s.user_key IS NOT NULL
        AND ((s.result = 'failure' AND s.error_code = 50057) OR s.result = 'success')
        AND s.event_time >= p.window_start - 2 * p.probe_window AND s.event_time < p.window_end
),
probe_pairs AS (
    -- a disabled-account try (a) and a success of another user (b) from the same IP
    SELECT a.ip_address, a.event_time AS try_time, a.signin_id AS try_id,
           b.event_time AS success_time, b.signin_id AS success_id
    FROM probe_events AS a
    JOIN probe_events AS b
        ON b.ip_address = a.ip_address AND b.success AND a.user_key <> b.user_key
    WHERE a.disabled_try
),
probe_points AS (
    -- an event whose window (t - window, t] holds a disabled-account try and a success of
    -- another user from the same IP
    SELECT DISTINCT f.ip_address, f.signin_id, f.event_time
    FROM probe_events AS f
    JOIN probe_pairs AS x
        ON x.ip_address = f.ip_address
        AND in_window_ending_at(x.try_time, x.try_id, f.event_time, f.signin_id, f.probe_window)
        AND in_window_ending_at(x.success_time, x.success_id, f.event_time, f.signin_id,
                                f.probe_window)
),
probe_triggers AS (
    SELECT q.*
    FROM (
        SELECT
            pp.*,
            lag(pp.event_time) OVER (
                PARTITION BY pp.ip_address ORDER BY pp.event_time, pp.signin_id
            ) AS last_hit
        FROM probe_points AS pp
    ) AS q, params AS p
    WHERE (q.last_hit IS NULL OR q.last_hit <= q.event_time - p.probe_window)
        AND q.event_time >= p.window_start AND q.event_time < p.window_end
),
probes AS (
    SELECT
        'disabled_account_probing' AS detection, 'high' AS severity, tr.ip_address AS entity,
        'ip' AS entity_type, tr.signin_id AS trigger_id, tr.event_time AS trigger_time,
        g.signin_id, g.event_time
    FROM probe_triggers AS tr
    JOIN probe_events AS g
        ON g.ip_address = tr.ip_address
        AND in_window_ending_at(g.event_time, g.signin_id, tr.event_time, tr.signin_id,
                                g.probe_window)
),

-- Success after a spray or brute force ------------------------------------------------------------
attacks AS (
    SELECT d.detection AS attack, d.entity, d.entity_type, d.user_id, d.window_end,
           d.detection_id
    FROM signin_detections AS d, params AS p
    WHERE d.detection IN ('password_spray', 'distributed_brute_force')
        AND d.window_end > p.window_start - p.attack_reach AND d.window_end < p.window_end
),
attack_successes AS (
    SELECT a.attack, a.entity, a.entity_type, a.window_end AS attack_end, a.detection_id,
           s.signin_id, s.event_time,
           row_number() OVER (PARTITION BY a.detection_id ORDER BY s.event_time, s.signin_id)
               AS nth
    FROM attacks AS a
    CROSS JOIN params AS p
    JOIN signins AS s
        ON s.result = 'success'
        AND s.event_time > a.window_end
        AND s.event_time <= a.window_end + p.attack_reach
        AND CASE a.entity_type
                WHEN 'ip' THEN s.ip_address = a.entity
                ELSE s.user_id = a.user_id OR s.upn = lower(a.entity) END
),
after_attack AS (
    SELECT
        'success_after_attack' AS detection, 'high' AS severity, x.entity,
        x.entity_type, x.signin_id AS trigger_id, x.event_time AS trigger_time,
        x.signin_id, x.event_time, x.attack, x.attack_end
    FROM attack_successes AS x, params AS p
    WHERE x.nth = 1 AND x.event_time >= p.window_start AND x.event_time < p.window_end
),

evidence AS (
    SELECT * FROM sessions
    UNION ALL BY NAME SELECT * FROM devices
    UNION ALL BY NAME SELECT * FROM probes
    UNION ALL BY NAME SELECT * FROM after_attack
),
findings AS (
    SELECT
        e.detection, e.severity, e.entity, e.entity_type, e.trigger_id, e.trigger_time,
        any_value(e.attack) AS attack, any_value(e.attack_end) AS attack_end,
        min(e.event_time) AS window_start,
        count(*) AS records,
        count(*) FILTER (WHERE s.result = 'success') AS successes,
        count(*) FILTER (WHERE s.error_code = 50057) AS disabled_tries,
        count(DISTINCT s.user_key) AS distinct_users,
        count(DISTINCT s.ip_address) AS distinct_ips,
        count(DISTINCT s.country) AS distinct_countries,
        list_sort(list_distinct(list(s.country))) AS countries,
        list_sort(list_distinct(list(s.ip_address))) AS ip_addresses,
        CASE WHEN count(DISTINCT s.user_key) = 1 THEN any_value(s.user_id) END AS user_id,
        list(e.signin_id ORDER BY e.event_time, e.signin_id) AS record_ids
    FROM evidence AS e
    JOIN signins AS s ON s.signin_id = e.signin_id AND s.event_time = e.event_time
    GROUP BY e.detection, e.severity, e.entity, e.entity_type, e.trigger_id, e.trigger_time
)

SELECT
    p.window_start AS hour,
    md5(concat_ws('|', f.detection, f.entity, epoch_us(f.window_start)::VARCHAR,
                  epoch_us(f.trigger_time)::VARCHAR, f.trigger_id)) AS detection_id,
    f.detection,
    f.severity,
    f.entity,
    f.entity_type,
    f.user_id,
    f.window_start,
    f.trigger_time AS window_end,
    f.records,
    f.distinct_users,
    f.distinct_ips,
    f.distinct_countries,
    f.countries,
    f.ip_addresses,
    CASE f.detection
        WHEN 'session_from_multiple_countries' THEN format(
            'one session from {} countries ({}) and {} IPs', f.distinct_countries,
            array_to_string(f.countries, ', '), f.distinct_ips)
        WHEN 'device_code_signin' THEN 'first device-code sign-in of the user in the history'
        WHEN 'disabled_account_probing' THEN format(
            '{} attempts on disabled accounts and {} successes of other users from one IP',
            f.disabled_tries, f.successes)
        ELSE format('success {} min after {} ending {} UTC',
                    round((epoch(f.trigger_time) - epoch(f.attack_end)) / 60),
                    f.attack, strftime(f.attack_end AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M'))
    END AS description,
    f.record_ids
FROM findings AS f, params AS p
